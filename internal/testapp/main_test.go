package main

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlagsComeFromEnvironmentUnlessGiven(t *testing.T) {
	t.Setenv("PORT", "9999")
	t.Setenv("TESTAPP_EXIT_CODE", "4")
	t.Setenv("TESTAPP_IGNORE_SIGTERM", "true")
	c, err := parseConfig([]string{"--exit-code=5", "--exit-after=1s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.port != "9999" || c.exitCode != 5 || !c.ignoreSigterm || c.exitAfter != time.Second {
		t.Fatalf("config %+v: want port from $PORT, exit code from the flag, ignore-sigterm from the environment", c)
	}
	if _, err := parseConfig([]string{"--exit-after=soon"}); err == nil {
		t.Fatal("a bad duration was accepted")
	}
}

func TestHTTPEndpoints(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var healthy atomic.Bool
	healthy.Store(true)
	exits := make(chan int, 1)
	go serve(ln, &healthy, exits, "1234")
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	t.Setenv("TESTAPP_PROBE", "value")

	expect := func(method, path string, wantCode int, wantBody string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantCode || (wantBody != "" && string(body) != wantBody) {
			t.Fatalf("%s %s: %d %q, want %d %q", method, path, resp.StatusCode, body, wantCode, wantBody)
		}
	}
	expect("GET", "/", 200, "")
	expect("GET", "/health", 200, "healthy\n")
	expect("POST", "/health/fail", 200, "")
	expect("GET", "/health", 503, "")
	if code := check([]string{base + "/health"}); code != 1 {
		t.Fatalf("check of a failing /health exited %d, want 1", code)
	}
	expect("POST", "/health/ok", 200, "")
	if code := check([]string{base + "/health"}); code != 0 {
		t.Fatalf("check of a passing /health exited %d, want 0", code)
	}
	expect("GET", "/env?name=TESTAPP_PROBE", 200, "value")
	expect("GET", "/env?name=TESTAPP_UNSET_VARIABLE", 404, "")
	expect("POST", "/exit?code=x", 400, "")
	expect("POST", "/exit?code=9", 200, "")
	if got := <-exits; got != 9 {
		t.Fatalf("exit asked with %d, want 9", got)
	}
	if code := check(nil); code != 2 {
		t.Fatalf("check without URL exited %d, want 2", code)
	}
}
