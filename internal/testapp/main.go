package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(check(os.Args[2:]))
	}
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(2)
	}
	os.Exit(run(cfg))
}

// config is the app's behaviour. Every flag can also be set with an
// environment variable TESTAPP_<FLAG> (upper case, dashes as underscores),
// so that a task definition can steer it without a command.
type config struct {
	port          string
	exitAfter     time.Duration
	exitCode      int
	ignoreSigterm bool
	termDelay     time.Duration
	burnCPU       float64
	unhealthy     bool
	touch         string
	allocMiB      int
}

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("testapp", flag.ContinueOnError)
	fs.StringVar(&c.port, "port", envOr("PORT", "8080"), "port to serve HTTP on (default $PORT, else 8080); 0 serves nothing")
	fs.DurationVar(&c.exitAfter, "exit-after", 0, "exit on its own after this long (0: never)")
	fs.IntVar(&c.exitCode, "exit-code", 0, "exit code used by --exit-after")
	fs.BoolVar(&c.ignoreSigterm, "ignore-sigterm", false, "ignore SIGTERM (only SIGKILL ends the app)")
	fs.DurationVar(&c.termDelay, "term-delay", 0, "on SIGTERM, wait this long before exiting 0")
	fs.Float64Var(&c.burnCPU, "burn-cpu", 0, "keep this many CPUs busy (0.5: half of one)")
	fs.BoolVar(&c.unhealthy, "unhealthy", false, "start with /health failing")
	fs.StringVar(&c.touch, "touch", "", "write this file once started (its content: the start time and pid)")
	fs.IntVar(&c.allocMiB, "alloc-mib", 0, "allocate and touch this many MiB at start (to provoke an OOM kill)")
	if err := fs.Parse(withEnvDefaults(fs, args)); err != nil {
		return c, err
	}
	return c, nil
}

// withEnvDefaults prepends a flag for every TESTAPP_* variable, so that
// flags given on the command line still win.
func withEnvDefaults(fs *flag.FlagSet, args []string) []string {
	var fromEnv []string
	fs.VisitAll(func(f *flag.Flag) {
		name := "TESTAPP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			fromEnv = append(fromEnv, "--"+f.Name+"="+v)
		}
	})
	return append(fromEnv, args...)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(c config) int {
	// Signal handling comes first, so that once the app answers HTTP a
	// test can rely on it (e.g. on SIGTERM being ignored).
	signals := make(chan os.Signal, 1)
	if c.ignoreSigterm {
		signal.Ignore(syscall.SIGTERM)
		signal.Notify(signals, syscall.SIGINT)
	} else {
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	}
	printEnvironment(os.Stdout)
	var ballast []byte
	if c.allocMiB > 0 {
		ballast = allocate(c.allocMiB)
	}
	var healthy atomic.Bool
	healthy.Store(!c.unhealthy)
	exits := make(chan int, 1)
	if c.port != "0" {
		ln, err := net.Listen("tcp", ":"+c.port)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testapp:", err)
			return 3
		}
		go serve(ln, &healthy, exits, c.port)
		fmt.Printf("testapp: serving HTTP on %s\n", ln.Addr())
	}
	if c.burnCPU > 0 {
		burn(c.burnCPU)
	}
	if c.touch != "" {
		if err := touch(c.touch); err != nil {
			fmt.Fprintln(os.Stderr, "testapp:", err)
			return 4
		}
	}
	code := waitForEnd(c, signals, exits)
	runtime.KeepAlive(ballast)
	return code
}

// waitForEnd blocks until the app should exit and returns its exit code.
func waitForEnd(c config, signals <-chan os.Signal, exits <-chan int) int {
	var exitTimer <-chan time.Time
	if c.exitAfter > 0 {
		exitTimer = time.After(c.exitAfter)
	}
	select {
	case <-exitTimer:
		fmt.Printf("testapp: exiting with %d after %s\n", c.exitCode, c.exitAfter)
		return c.exitCode
	case code := <-exits:
		fmt.Printf("testapp: exiting with %d as asked\n", code)
		return code
	case s := <-signals:
		fmt.Printf("testapp: got %s, exiting in %s\n", s, c.termDelay)
		time.Sleep(c.termDelay)
		return 0
	}
}

func printEnvironment(w io.Writer) {
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		fmt.Fprintln(w, "env:", kv)
	}
}

// serve answers:
//
//	GET  /                 "testapp ok" with pid and port
//	GET  /health           200, or 503 once made unhealthy
//	POST /health/fail      makes /health fail
//	POST /health/ok        makes /health pass again
//	GET  /env?name=NAME    the value of an environment variable (404 if unset)
//	POST /exit?code=N      exits with code N
func serve(ln net.Listener, healthy *atomic.Bool, exits chan<- int, port string) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "testapp ok pid=%d port=%s\n", os.Getpid(), port)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "healthy")
	})
	mux.HandleFunc("POST /health/fail", func(w http.ResponseWriter, _ *http.Request) {
		healthy.Store(false)
		fmt.Fprintln(w, "now unhealthy")
	})
	mux.HandleFunc("POST /health/ok", func(w http.ResponseWriter, _ *http.Request) {
		healthy.Store(true)
		fmt.Fprintln(w, "now healthy")
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		v, ok := os.LookupEnv(r.URL.Query().Get("name"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, v)
	})
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, "code must be a number", http.StatusBadRequest)
			return
		}
		// The whole answer goes out before the exit is asked for, or the
		// process could end with it still buffered and the caller read EOF.
		body := fmt.Sprintf("exiting with %d\n", code)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
		_ = http.NewResponseController(w).Flush()
		select {
		case exits <- code:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "testapp: serve:", err)
	}
}

// burn keeps fraction CPUs busy: each of ceil(fraction) goroutines spins for
// its share of every 100 ms.
func burn(fraction float64) {
	const period = 100 * time.Millisecond
	workers := int(fraction)
	if float64(workers) < fraction {
		workers++
	}
	busy := time.Duration(float64(period) * fraction / float64(workers))
	for range workers {
		go func() {
			for {
				start := time.Now()
				for time.Since(start) < busy {
				}
				time.Sleep(period - busy)
			}
		}()
	}
}

func allocate(mib int) []byte {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}

func touch(path string) error {
	content := fmt.Sprintf("%s pid=%d\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid())
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("touch %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("touch %s: %w", path, err)
	}
	return nil
}

// check is the health-check command for images without a shell:
// "testapp check URL" exits 0 if URL answers 2xx, else 1.
func check(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: testapp check URL")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintln(os.Stderr, "check:", resp.Status)
		return 1
	}
	return 0
}
