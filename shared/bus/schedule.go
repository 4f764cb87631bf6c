package bus

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidRule marks a rule or schedule EventBridge would refuse.
var ErrInvalidRule = errors.New("invalid rule")

var ruleNameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

// ValidateRule checks r as EventBridge's PutRule would (name, description,
// pattern) and that it names a target.
func ValidateRule(r Rule) error {
	if err := validateRuleHeader(r.Name, r.Description, r.Target); err != nil {
		return err
	}
	if err := ValidatePattern(r.Pattern); err != nil {
		return fmt.Errorf("rule %q: %w", r.Name, err)
	}
	return nil
}

// ValidateSchedule checks s as EventBridge's PutRule would and that its
// expression is a rate it can run.
func ValidateSchedule(s Schedule) error {
	if err := validateRuleHeader(s.Name, s.Description, s.Target); err != nil {
		return err
	}
	if _, err := ParseRate(s.Expression); err != nil {
		return fmt.Errorf("schedule %q: %w", s.Name, err)
	}
	return nil
}

func validateRuleHeader(name, description, target string) error {
	switch {
	case !ruleNameRE.MatchString(name):
		return fmt.Errorf("%w: name %q must be 1-64 letters, digits, '.', '-' or '_'", ErrInvalidRule, name)
	case len(description) > 512:
		return fmt.Errorf("%w: rule %q: description is %d characters; at most 512 are allowed", ErrInvalidRule, name, len(description))
	case target == "":
		return fmt.Errorf("%w: rule %q: target must not be empty", ErrInvalidRule, name)
	}
	return nil
}

// ParseRate reads an EventBridge rate expression, "rate(<value> <unit>)"
// with unit minute(s), hour(s) or day(s), singular exactly when the value
// is 1. Cron expressions are valid in EventBridge but are not rates; they
// are refused with an error saying so.
func ParseRate(expr string) (time.Duration, error) {
	if strings.HasPrefix(expr, "cron(") {
		return 0, fmt.Errorf("%w: %q: only rate(...) schedules are supported, not cron(...)", ErrInvalidRule, expr)
	}
	inner, ok := strings.CutPrefix(expr, "rate(")
	if ok {
		inner, ok = strings.CutSuffix(inner, ")")
	}
	value, unit, found := strings.Cut(inner, " ")
	if !ok || !found {
		return 0, fmt.Errorf("%w: %q is not a rate expression such as rate(1 minute)", ErrInvalidRule, expr)
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || strconv.Itoa(n) != value {
		return 0, fmt.Errorf("%w: %q: the rate must be a positive whole number", ErrInvalidRule, expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	base, plural := strings.CutSuffix(unit, "s")
	d, known := units[base]
	if !known || plural != (n != 1) {
		return 0, fmt.Errorf("%w: %q: the unit must be minute, hour or day for 1 and minutes, hours or days otherwise", ErrInvalidRule, expr)
	}
	return time.Duration(n) * d, nil
}
