package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxPatternLength is EventBridge's default quota on the length of an
// event pattern, in characters (it can be raised to 4096 per account;
// Berth keeps to the default so its patterns work in any account).
const MaxPatternLength = 2048

// ErrInvalidPattern marks a pattern EventBridge would refuse; test with
// errors.Is.
var ErrInvalidPattern = errors.New("event pattern is not valid")

// PatternError says where and why a pattern is invalid.
type PatternError struct {
	// Path is the dotted path of the offending field ("detail.group"), or
	// "" for the pattern as a whole.
	Path   string
	Reason string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return ErrInvalidPattern.Error() + ": " + e.Reason
	}
	return ErrInvalidPattern.Error() + ": " + e.Path + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalidPattern) hold.
func (e *PatternError) Unwrap() error { return ErrInvalidPattern }

// MatchKind names one kind of test a pattern applies to a field, as
// EventBridge's documentation names its comparison operators.
type MatchKind string

// The match kinds of EventBridge patterns.
const (
	MatchExact                 MatchKind = "exact"
	MatchPrefix                MatchKind = "prefix"
	MatchPrefixIgnoreCase      MatchKind = "prefix with equals-ignore-case"
	MatchSuffix                MatchKind = "suffix"
	MatchSuffixIgnoreCase      MatchKind = "suffix with equals-ignore-case"
	MatchEqualsIgnoreCase      MatchKind = "equals-ignore-case"
	MatchWildcard              MatchKind = "wildcard"
	MatchExists                MatchKind = "exists"
	MatchNumeric               MatchKind = "numeric"
	MatchCIDR                  MatchKind = "cidr"
	MatchAnythingBut           MatchKind = "anything-but"
	MatchAnythingButValue      MatchKind = "anything-but with a single value"
	MatchAnythingButNumbers    MatchKind = "anything-but with numbers"
	MatchAnythingButPrefix     MatchKind = "anything-but with prefix"
	MatchAnythingButSuffix     MatchKind = "anything-but with suffix"
	MatchAnythingButIgnoreCase MatchKind = "anything-but with equals-ignore-case"
	MatchAnythingButWildcard   MatchKind = "anything-but with wildcard"
	MatchOr                    MatchKind = "$or"
)

// Matcher is one test in a pattern: a value in one of its arrays, or a $or.
type Matcher struct {
	// Path is the dotted path of the field tested, e.g. "detail.group".
	Path string
	Kind MatchKind
	// Alone is true when the matcher is the only value in its array.
	Alone bool
}

// Pattern is an event pattern EventBridge accepts.
type Pattern struct {
	// JSON is the pattern, compacted.
	JSON json.RawMessage
	// Matchers lists every test in the pattern, ordered by path.
	Matchers []Matcher
}

// ParsePattern checks text with EventBridge's rules for event patterns: a
// JSON object within MaxPatternLength whose members are objects or non-empty
// arrays, no empty objects, array values that are strings, numbers, true,
// false, null or one-member match expressions of a known operator with a
// well-formed operand.
func ParsePattern(text []byte) (Pattern, error) {
	if n := utf8.RuneCount(text); n > MaxPatternLength {
		return Pattern{}, &PatternError{Reason: fmt.Sprintf("the pattern is %d characters; EventBridge allows at most %d", n, MaxPatternLength)}
	}
	root, err := decodePattern(text)
	if err != nil {
		return Pattern{}, err
	}
	var p Pattern
	if err := p.walkObject("", root); err != nil {
		return Pattern{}, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, text); err != nil {
		return Pattern{}, &PatternError{Reason: "the pattern is not valid JSON: " + err.Error()}
	}
	p.JSON = buf.Bytes()
	slices.SortStableFunc(p.Matchers, func(a, b Matcher) int { return strings.Compare(a.Path, b.Path) })
	return p, nil
}

// ValidatePattern reports whether EventBridge would accept text as an event
// pattern; the error is a *PatternError.
func ValidatePattern(text []byte) error {
	_, err := ParsePattern(text)
	return err
}

func decodePattern(text []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &PatternError{Reason: "the pattern is empty"}
		}
		return nil, &PatternError{Reason: "the pattern is not valid JSON: " + err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &PatternError{Reason: "the pattern has data after its JSON object"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &PatternError{Reason: "the pattern must be a JSON object"}
	}
	return obj, nil
}

func (p *Pattern) walkObject(path string, obj map[string]any) error {
	if len(obj) == 0 {
		return &PatternError{Path: path, Reason: "empty objects are not allowed"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var err error
		switch v := obj[k].(type) {
		case map[string]any:
			if k == "$or" {
				return &PatternError{Path: path, Reason: "$or must be an array of patterns"}
			}
			err = p.walkObject(join(path, k), v)
		case []any:
			if k == "$or" {
				err = p.walkOr(path, v)
			} else {
				err = p.walkArray(join(path, k), v)
			}
		default:
			err = &PatternError{Path: join(path, k), Reason: fmt.Sprintf("%q must be an object or an array", k)}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Pattern) walkOr(path string, alternatives []any) error {
	if len(alternatives) < 2 {
		return &PatternError{Path: path, Reason: "$or must list at least two patterns"}
	}
	p.Matchers = append(p.Matchers, Matcher{Path: path, Kind: MatchOr, Alone: true})
	for _, alt := range alternatives {
		obj, ok := alt.(map[string]any)
		if !ok {
			return &PatternError{Path: path, Reason: "every member of $or must be a pattern object"}
		}
		if err := p.walkObject(path, obj); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pattern) walkArray(path string, values []any) error {
	if len(values) == 0 {
		return &PatternError{Path: path, Reason: "empty arrays are not allowed"}
	}
	for _, v := range values {
		kind, err := matchKind(path, v)
		if err != nil {
			return err
		}
		p.Matchers = append(p.Matchers, Matcher{Path: path, Kind: kind, Alone: len(values) == 1})
	}
	return nil
}

func matchKind(path string, v any) (MatchKind, error) {
	switch v := v.(type) {
	case nil, bool, string, json.Number:
		return MatchExact, nil
	case map[string]any:
		return matchExpression(path, v)
	default:
		return "", &PatternError{Path: path, Reason: "match value must be a string, number, true, false, null or a match expression"}
	}
}

// matchExpression checks a {"<operator>": operand} value.
func matchExpression(path string, expr map[string]any) (MatchKind, error) {
	if len(expr) != 1 {
		return "", &PatternError{Path: path, Reason: "a match expression must have exactly one key"}
	}
	op, operand := onlyEntry(expr)
	bad := func(format string, args ...any) (MatchKind, error) {
		return "", &PatternError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	switch op {
	case "prefix", "suffix":
		return affixKind(path, op, operand)
	case "equals-ignore-case":
		if _, ok := operand.(string); !ok {
			return bad("equals-ignore-case match pattern must be a string")
		}
		return MatchEqualsIgnoreCase, nil
	case "wildcard":
		s, ok := operand.(string)
		if !ok {
			return bad("wildcard match pattern must be a string")
		}
		return MatchWildcard, checkWildcard(path, s)
	case "exists":
		if _, ok := operand.(bool); !ok {
			return bad("exists match pattern must be either true or false")
		}
		return MatchExists, nil
	case "numeric":
		return MatchNumeric, checkNumeric(path, operand)
	case "cidr":
		s, ok := operand.(string)
		if !ok {
			return bad("cidr match pattern must be a string")
		}
		if _, _, err := net.ParseCIDR(s); err != nil {
			return bad("%q is not a CIDR block such as 10.0.0.0/24", s)
		}
		return MatchCIDR, nil
	case "anything-but":
		return anythingButKind(path, operand)
	default:
		return bad("unrecognized match type %q", op)
	}
}

func affixKind(path, op string, operand any) (MatchKind, error) {
	plain, folded := MatchPrefix, MatchPrefixIgnoreCase
	if op == "suffix" {
		plain, folded = MatchSuffix, MatchSuffixIgnoreCase
	}
	switch v := operand.(type) {
	case string:
		return plain, nil
	case map[string]any:
		if _, ok := v["equals-ignore-case"].(string); ok && len(v) == 1 {
			return folded, nil
		}
	}
	return "", &PatternError{Path: path, Reason: op + " match pattern must be a string or {\"equals-ignore-case\": string}"}
}

func anythingButKind(path string, operand any) (MatchKind, error) {
	bad := func(reason string) (MatchKind, error) { return "", &PatternError{Path: path, Reason: reason} }
	switch v := operand.(type) {
	case string:
		return MatchAnythingButValue, nil
	case json.Number:
		return MatchAnythingButValue, nil
	case []any:
		if len(v) == 0 {
			return bad("empty arrays are not allowed in anything-but")
		}
		var strs, nums int
		for _, x := range v {
			switch x.(type) {
			case string:
				strs++
			case json.Number:
				nums++
			default:
				return bad("anything-but lists may hold only strings or only numbers, not null, booleans, arrays or objects")
			}
		}
		if strs > 0 && nums > 0 {
			return bad("anything-but lists must hold only strings or only numbers, not both")
		}
		if nums > 0 {
			return MatchAnythingButNumbers, nil
		}
		return MatchAnythingBut, nil
	case map[string]any:
		return anythingButExpression(path, v)
	default:
		return bad("anything-but must be a value, a list of values or a prefix, suffix, equals-ignore-case or wildcard expression")
	}
}

func anythingButExpression(path string, expr map[string]any) (MatchKind, error) {
	bad := func(reason string) (MatchKind, error) { return "", &PatternError{Path: path, Reason: reason} }
	if len(expr) != 1 {
		return bad("a match expression must have exactly one key")
	}
	op, operand := onlyEntry(expr)
	switch op {
	case "prefix", "suffix":
		s, ok := operand.(string)
		if !ok {
			return bad("anything-but " + op + " must be a string")
		}
		if s == "" {
			return bad("anything-but " + op + " must not be empty")
		}
		if op == "prefix" {
			return MatchAnythingButPrefix, nil
		}
		return MatchAnythingButSuffix, nil
	case "equals-ignore-case":
		if !isStringOrStrings(operand) {
			return bad("anything-but equals-ignore-case must be a string or a list of strings")
		}
		return MatchAnythingButIgnoreCase, nil
	case "wildcard":
		if !isStringOrStrings(operand) {
			return bad("anything-but wildcard must be a string or a list of strings")
		}
		for _, s := range asStrings(operand) {
			if err := checkWildcard(path, s); err != nil {
				return "", err
			}
		}
		return MatchAnythingButWildcard, nil
	default:
		return bad(fmt.Sprintf("unsupported anything-but pattern: %q", op))
	}
}

// onlyEntry returns the key and value of a one-member object.
func onlyEntry(m map[string]any) (string, any) {
	for k, v := range m {
		return k, v
	}
	return "", nil
}

// checkWildcard applies EventBridge's wildcard rules: no two '*' in a row,
// and '\' only escapes '*' or '\'.
func checkWildcard(path, s string) error {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return &PatternError{Path: path, Reason: fmt.Sprintf("wildcard %q has consecutive wildcard characters at position %d", s, i+1)}
			}
		case '\\':
			if i+1 == len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return &PatternError{Path: path, Reason: fmt.Sprintf("wildcard %q: '\\' may only escape '*' or '\\' (position %d)", s, i)}
			}
			i++
		}
	}
	return nil
}

// numericLimit bounds the values numeric matching accepts.
const numericLimit = 5e9

// checkNumeric accepts [op, n] and [">"|">=", low, "<"|"<=", high].
func checkNumeric(path string, operand any) error {
	bad := func(format string, args ...any) error {
		return &PatternError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	terms, ok := operand.([]any)
	if !ok || (len(terms) != 2 && len(terms) != 4) {
		return bad(`numeric must be an array such as [">", 0] or [">", 0, "<=", 5]`)
	}
	var bounds []float64
	for i := 0; i < len(terms); i += 2 {
		op, _ := terms[i].(string)
		switch {
		case len(terms) == 2 && slices.Contains([]string{"<", "<=", "=", ">", ">="}, op):
		case len(terms) == 4 && i == 0 && (op == ">" || op == ">="):
		case len(terms) == 4 && i == 2 && (op == "<" || op == "<="):
		default:
			return bad("unrecognized or misplaced numeric operator %v", terms[i])
		}
		n, isNum := terms[i+1].(json.Number)
		if !isNum {
			return bad("the value after %q must be a number", op)
		}
		f, err := n.Float64()
		if err != nil || f < -numericLimit || f > numericLimit {
			return bad("numeric values must be between -5.0e9 and 5.0e9, got %s", n)
		}
		bounds = append(bounds, f)
	}
	if len(bounds) == 2 && bounds[0] >= bounds[1] {
		return bad("the lower bound of a numeric range must be less than the upper one")
	}
	return nil
}

func isStringOrStrings(v any) bool {
	switch v := v.(type) {
	case string:
		return true
	case []any:
		if len(v) == 0 {
			return false
		}
		for _, x := range v {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func asStrings(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
