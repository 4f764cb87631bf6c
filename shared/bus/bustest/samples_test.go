package bustest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-run/berth/shared/bus"
)

var update = flag.Bool("update", false, "rewrite events/ from the sample builders")

// TestSamplesAreCurrent keeps events/ equal to what the builders make:
// run `go test ./shared/bus/bustest -update` after changing a builder.
func TestSamplesAreCurrent(t *testing.T) {
	samples, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		want, err := Encode(s.Event)
		if err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		path := filepath.Join(dir, s.File)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./shared/bus/bustest -update)", s.File, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("events/%s differs from its builder's event; run go test ./shared/bus/bustest -update", s.File)
		}
	}
}

// TestEventsDirHoldsTheSamples: events/ holds every bus sample (other
// packages keep their functions' samples there too: Function URL requests,
// stream batches, queue batches), and every file in it is JSON.
func TestEventsDirHoldsTheSamples(t *testing.T) {
	samples, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := EventsDir()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || !json.Valid(b) {
			t.Errorf("events/%s is not valid JSON (%v)", e.Name(), err)
		}
	}
	for _, want := range append([]string{MalformedFile}, sampleFiles(samples)...) {
		if !present[want] {
			t.Errorf("events/%s is missing; run go test ./shared/bus/bustest -update", want)
		}
	}
}

func sampleFiles(samples []Sample) []string {
	out := make([]string, len(samples))
	for i, s := range samples {
		out[i] = s.File
	}
	return out
}

func TestSamplesParseAsValidEvents(t *testing.T) {
	samples, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		raw, err := ReadFile(s.File)
		if err != nil {
			t.Fatal(err)
		}
		e, err := bus.ParseEvent(raw)
		if err != nil {
			t.Errorf("%s: %v", s.File, err)
			continue
		}
		if e.Account != "000000000000" || e.Region != "us-east-1" {
			t.Errorf("%s: account %s region %s, want 000000000000 us-east-1", s.File, e.Account, e.Region)
		}
		wantSource := bus.SourceBerth
		switch e.DetailType {
		case bus.DetailTypeAlarmStateChange:
			wantSource = bus.SourceCloudWatch
		case bus.DetailTypeScheduled:
			wantSource = bus.SourceEvents
		}
		if e.Source != wantSource {
			t.Errorf("%s: source %q, want %q", s.File, e.Source, wantSource)
		}
		if len(e.Resources) != 1 {
			t.Errorf("%s: resources %v, want exactly one ARN", s.File, e.Resources)
		}
	}
}

func TestMalformedSampleIsRefused(t *testing.T) {
	raw, err := ReadFile(MalformedFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.ParseEvent(raw); !errors.Is(err, bus.ErrInvalidEvent) {
		t.Fatalf("ParseEvent(%s) = %v, want ErrInvalidEvent", MalformedFile, err)
	}
}

func TestSampleIDsAreDistinct(t *testing.T) {
	samples, err := Samples()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, s := range samples {
		if other, dup := seen[s.Event.ID]; dup {
			t.Errorf("%s and %s share id %s", s.File, other, s.Event.ID)
		}
		seen[s.Event.ID] = s.File
	}
}
