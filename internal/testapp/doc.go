// Command testapp is the small, static program Berth's tests run as a host
// process (process driver) and inside a FROM scratch image (docker driver).
//
// It prints its environment, then serves HTTP on $PORT (default 8080):
// GET / and GET /health; POST /health/fail and /health/ok toggle health;
// GET /env?name=X echoes a variable; POST /exit?code=N exits with N. It can
// exit on its own (--exit-after, --exit-code), ignore or delay SIGTERM
// (--ignore-sigterm, --term-delay), burn CPU (--burn-cpu), start unhealthy
// (--unhealthy), allocate memory (--alloc-mib) and write a marker file once
// started (--touch). Every flag may also come from TESTAPP_<FLAG> in the
// environment. Once it answers HTTP its signal handling is in place.
//
// "testapp check URL" exits 0 if URL answers 2xx, else 1: the health-check
// command of a shell-less image.
//
// internal/testimage builds it.
package main
