package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/bolt"
)

// crashChildEnv makes the test binary act as a writer that a test kills.
const crashChildEnv = "BERTH_BOLT_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		if err := crashChild(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild commits forever: each transaction bumps a counter (moving its
// index entry) and creates one item, then prints "ack <counter version>".
func crashChild(path string) error {
	s, err := bolt.Open(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for v := int64(1); ; v++ {
		counter := store.Item{Key: store.Key{PK: "c", SK: "counter"}, Data: fmt.Appendf(nil, `{"n":%d}`, v), GSI1: store.Key{PK: "g", SK: fmt.Sprintf("%09d", v)}}
		item := store.Item{Key: store.Key{PK: "items", SK: fmt.Sprintf("%09d", v)}, Data: []byte(`{}`), GSI2: store.Key{PK: "h", SK: "x"}, ExpiresAt: v}
		if err := s.Transact(context.Background(), []store.Write{put(counter, v-1), put(item, 0)}); err != nil {
			return err
		}
		fmt.Fprintf(out, "ack %d\n", v)
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// TestKilledWriterLosesNoAcknowledgedCommit kills a writing process at a
// random point with SIGKILL: the file reopens consistent, holding every
// acknowledged commit, and its change log announces each one.
func TestKilledWriterLosesNoAcknowledgedCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 300
	var acked int64
	lines := bufio.NewScanner(stdout)
	for acked < killAfter && lines.Scan() {
		v, err := strconv.ParseInt(strings.TrimPrefix(lines.Text(), "ack "), 10, 64)
		if err != nil {
			t.Fatalf("child wrote %q", lines.Text())
		}
		acked = v
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < killAfter {
		t.Fatalf("child stopped after %d commits: %s", acked, stderr.String())
	}

	s := openAt(t, path)
	mustCheck(t, s)
	counter, err := s.Get(context.Background(), store.Key{PK: "c", SK: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	// The child may have committed once more after its last acknowledgement.
	if counter.Version < acked || counter.Version > acked+1 {
		t.Fatalf("counter at version %d after %d acknowledged commits", counter.Version, acked)
	}
	items, err := queryCount(s, store.Query{PK: "items"})
	if err != nil || int64(items) != counter.Version {
		t.Fatalf("%d items (%v) beside a counter at version %d", items, err, counter.Version)
	}
	if n := pending(t, s); int64(n) != 2*counter.Version {
		t.Fatalf("change log holds %d records for %d two-item commits", n, counter.Version)
	}
}

func queryCount(s *bolt.Store, q store.Query) (int, error) {
	n := 0
	for {
		page, next, err := s.Query(context.Background(), q)
		if err != nil {
			return 0, err
		}
		n += len(page)
		if next == "" {
			return n, nil
		}
		q.Cursor = next
	}
}
