package control

import (
	"strconv"
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/store"
)

// Control runs the use cases against one store.
type Control struct {
	db      *store.DB
	acct    ecs.Account
	now     func() time.Time
	seed    func() int64
	timings AgentTimings
	waiter  Waiter
	alarms  AlarmStates
}

// Options configure the use cases.
type Options struct {
	// Now reads the clock.
	Now func() time.Time
	// Seed draws the seed of each random placement.
	Seed func() int64
	// Timings are the agent and host-health settings; zero means DefaultAgentTimings.
	Timings AgentTimings
	// Waiter wakes long polls; nil makes every poll answer at once.
	Waiter Waiter
	// Alarms reads deployment alarms' states; nil means none is in ALARM.
	Alarms AlarmStates
}

// New builds the use cases over db.
func New(db *store.DB, opts Options) *Control {
	if opts.Timings == (AgentTimings{}) {
		opts.Timings = DefaultAgentTimings
	}
	return &Control{db: db, acct: db.Account(), now: opts.Now, seed: opts.Seed, timings: opts.Timings, waiter: opts.Waiter, alarms: opts.Alarms}
}

// DB is the store the use cases work on.
func (c *Control) DB() *store.DB { return c.db }

// maxItems checks a list argument's length against ECS's limit.
func maxItems(field string, n, max int) error {
	if n > max {
		return ecs.InvalidParameter("%s: at most %d items are allowed, got %d", field, max, n)
	}
	return nil
}

// required checks that a string argument is present.
func required(field, v string) error {
	if v == "" {
		return ecs.InvalidParameter("%s: is required", field)
	}
	return nil
}

// includes reports whether include lists name.
func includes(include []string, name string) bool {
	for _, s := range include {
		if s == name {
			return true
		}
	}
	return false
}

// checkInclude rejects include values ECS does not define for an action.
func checkInclude(field string, include []string, valid ...string) error {
	for i, s := range include {
		if !includes(valid, s) {
			return ecs.InvalidParameter("%s[%d]: %q is not valid; valid: %v", field, i, s, valid)
		}
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }
