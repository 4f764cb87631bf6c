package cql

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// compileJavaRegex compiles a Java-syntax pattern with RE2, anchored so it
// must match the whole value (Java's String.matches). Constructs RE2 lacks,
// or reads differently from Java, are rejected rather than silently
// changing meaning.
func compileJavaRegex(pattern string) (matcher, error) {
	translated, err := translateJavaRegex(pattern)
	if err != nil {
		return matcher{}, fmt.Errorf("regular expression %s: %w", quoteToken(pattern), err)
	}
	re, err := regexp.Compile(`^(?:` + translated + `)$`)
	if err != nil {
		return matcher{}, fmt.Errorf("regular expression %s is not valid: %s", quoteToken(pattern), reasonOf(err))
	}
	return newMatcher(re, translated), nil
}

// matcher decides a whole-value match, taking a shortcut for the common
// patterns "literal" and "literal.*" (t2.*, service:.*), which are a string
// comparison, and running the regular expression otherwise.
type matcher struct {
	re      *regexp.Regexp
	literal string
	kind    matchKind
}

type matchKind uint8

const (
	matchRegexp matchKind = iota
	matchExact            // the value equals literal
	matchPrefix           // the value starts with literal and has no newline after it
)

func newMatcher(re *regexp.Regexp, translated string) matcher {
	m := matcher{re: re}
	parsed, err := syntax.Parse(translated, syntax.Perl)
	if err != nil {
		return m
	}
	parsed = parsed.Simplify()
	if lit, ok := plainLiteral(parsed); ok {
		m.kind, m.literal = matchExact, lit
		return m
	}
	if parsed.Op == syntax.OpConcat && len(parsed.Sub) == 2 && isAnyStar(parsed.Sub[1]) {
		if lit, ok := plainLiteral(parsed.Sub[0]); ok {
			m.kind, m.literal = matchPrefix, lit
		}
	}
	return m
}

func plainLiteral(r *syntax.Regexp) (string, bool) {
	if r.Op != syntax.OpLiteral || r.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	return string(r.Rune), true
}

func isAnyStar(r *syntax.Regexp) bool {
	return r.Op == syntax.OpStar && len(r.Sub) == 1 && r.Sub[0].Op == syntax.OpAnyCharNotNL
}

func (m *matcher) match(v string) bool {
	switch m.kind {
	case matchExact:
		return v == m.literal
	case matchPrefix:
		rest, ok := strings.CutPrefix(v, m.literal)
		return ok && strings.IndexByte(rest, '\n') < 0
	}
	return m.re.MatchString(v)
}

// reasonOf strips Go's "error parsing regexp: " prefix.
func reasonOf(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "error parsing regexp: "); ok {
		msg = after
	}
	// Go appends the offending fragment of the anchored pattern; the
	// caller already names the pattern as written.
	if before, _, ok := strings.Cut(msg, ": `"); ok {
		msg = before
	}
	return msg
}

// translateJavaRegex walks the pattern once, rejecting what RE2 cannot do
// and rewriting \uXXXX (Java) as \x{XXXX} (RE2).
func translateJavaRegex(p string) (string, error) {
	var b strings.Builder
	inClass := false
	lastQuantifier := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		quantifier := false
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("ends with a lone backslash")
			}
			n, out, err := javaEscape(p, i)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i += n - 1
			lastQuantifier = false
			continue
		case inClass:
			switch {
			case c == ']':
				inClass = false
			case c == '[':
				return "", fmt.Errorf("nested character classes (Java's class union) are not supported")
			case c == '&' && i+1 < len(p) && p[i+1] == '&':
				return "", fmt.Errorf("character class intersection (&&) is not supported")
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal member of the class.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
			lastQuantifier = false
			continue
		case c == '(':
			if err := checkGroup(p[i:]); err != nil {
				return "", err
			}
		case c == '+' && lastQuantifier:
			return "", fmt.Errorf("possessive quantifiers (such as *+ or ++) are not supported")
		case c == '*' || c == '+' || c == '?' || c == '}':
			quantifier = true
		}
		lastQuantifier = quantifier
		b.WriteByte(c)
	}
	return b.String(), nil
}

// javaEscape handles the escape at p[i] (a backslash) and returns how many
// bytes it spans and its RE2 spelling.
func javaEscape(p string, i int) (int, string, error) {
	c := p[i+1]
	switch {
	case c >= '1' && c <= '9':
		return 0, "", fmt.Errorf("backreferences (\\%c) are not supported", c)
	case c == 'k' && i+2 < len(p) && p[i+2] == '<':
		return 0, "", fmt.Errorf("named backreferences (\\k<name>) are not supported")
	case c == 'Z':
		return 0, "", fmt.Errorf("\\Z is not supported; values have no line terminators, so use $")
	case c == 'Q':
		// \Q...\E quotes literally in both dialects; copy it whole so its
		// content is not inspected as syntax.
		end := strings.Index(p[i+2:], `\E`)
		if end < 0 {
			return len(p) - i, p[i:], nil
		}
		n := 2 + end + 2
		return n, p[i : i+n], nil
	case c == 'u':
		if i+6 > len(p) || !isHex(p[i+2:i+6]) {
			return 0, "", fmt.Errorf("\\u must be followed by four hexadecimal digits")
		}
		return 6, `\x{` + p[i+2:i+6] + `}`, nil
	}
	return 2, p[i : i+2], nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// checkGroup rejects group kinds RE2 lacks and flags whose meaning differs.
// g starts with "(".
func checkGroup(g string) error {
	if !strings.HasPrefix(g, "(?") {
		return nil
	}
	rest := g[2:]
	switch {
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
		return fmt.Errorf("lookahead groups are not supported")
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return fmt.Errorf("lookbehind groups are not supported")
	case strings.HasPrefix(rest, ">"):
		return fmt.Errorf("atomic groups (?>...) are not supported")
	case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "P<"):
		return nil // named group
	}
	for j := 0; j < len(rest); j++ {
		switch f := rest[j]; f {
		case ':', ')':
			return nil
		case 'i', 'm', 's', '-':
		case 'U':
			// Java's U is Unicode character classes, RE2's is ungreedy.
			return fmt.Errorf("the U flag is not supported (it means something else in RE2)")
		default:
			return fmt.Errorf("the %q flag is not supported; supported flags: i, m, s", f)
		}
	}
	return nil
}
