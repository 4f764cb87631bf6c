package cql

import (
	"fmt"
	"regexp"
	"strings"
)

// compileJavaRegex compiles a Java-syntax pattern with RE2, anchored so it
// must match the whole value (Java's String.matches). Constructs RE2 lacks,
// or reads differently from Java, are rejected rather than silently
// changing meaning.
func compileJavaRegex(pattern string) (*regexp.Regexp, error) {
	translated, err := translateJavaRegex(pattern)
	if err != nil {
		return nil, fmt.Errorf("regular expression %s: %w", quoteToken(pattern), err)
	}
	re, err := regexp.Compile(`^(?:` + translated + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regular expression %s is not valid: %s", quoteToken(pattern), reasonOf(err))
	}
	return re, nil
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
