package cql

import (
	"strconv"
	"strings"
)

// version is a semantic version as the ECS agent reports it (1.14.5,
// 1.70.0-beta.1). Up to four numeric parts; missing parts are zero.
type version struct {
	core [4]int
	pre  []string // pre-release identifiers; empty for a release
}

// parseVersion reads [v]MAJOR[.MINOR[.PATCH[.BUILD]]][-PRERELEASE][+META].
func parseVersion(s string) (version, bool) {
	var v version
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	core, pre, hasPre := strings.Cut(s, "-")
	for i := 0; ; i++ {
		if i == len(v.core) {
			return v, false
		}
		part, more, _ := strings.Cut(core, ".")
		n, ok := parseDigits(part)
		if !ok {
			return v, false
		}
		v.core[i] = n
		if !strings.Contains(core, ".") {
			break
		}
		core = more
	}
	if hasPre {
		if pre == "" {
			return v, false
		}
		v.pre = strings.Split(pre, ".")
		for _, id := range v.pre {
			if id == "" {
				return v, false
			}
		}
	}
	return v, true
}

// parseDigits reads a non-empty run of decimal digits (no sign).
func parseDigits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// compare orders versions by semantic-versioning precedence.
func (v version) compare(o version) int {
	for i := range v.core {
		if c := cmpInt(v.core[i], o.core[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.pre) == 0 && len(o.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(o.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(o.pre); i++ {
		if c := comparePreID(v.pre[i], o.pre[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(v.pre), len(o.pre))
}

// comparePreID: numeric identifiers compare numerically and sort before
// alphanumeric ones, which compare as strings.
func comparePreID(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmpInt(na, nb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
