package ecs

import (
	"strconv"
	"strings"
)

// ParseTaskCPU converts a task-level cpu string to CPU units: "1024",
// "1 vCPU", "0.5 vcpu". ECS accepts both forms and stores the unit count.
func ParseTaskCPU(s string) (int, error) {
	v := strings.TrimSpace(s)
	lower := strings.ToLower(v)
	if num, ok := strings.CutSuffix(lower, "vcpu"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || f <= 0 {
			return 0, Client("cpu: %q is not a valid CPU value; use CPU units (\"1024\") or vCPUs (\"1 vCPU\")", s)
		}
		return int(f * 1024), nil
	}
	n, err := parsePositiveInt(v)
	if err != nil {
		return 0, Client("cpu: %q is not a valid CPU value; use CPU units (\"1024\") or vCPUs (\"1 vCPU\")", s)
	}
	return n, nil
}

// ParseTaskMemory converts a task-level memory string to MiB: "512",
// "1GB", "2 gb" (GB here means GiB, as in ECS).
func ParseTaskMemory(s string) (int, error) {
	v := strings.TrimSpace(s)
	lower := strings.ToLower(v)
	for _, unit := range []string{"gb", "gib"} {
		if num, ok := strings.CutSuffix(lower, unit); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f <= 0 {
				return 0, Client("memory: %q is not a valid memory value; use MiB (\"512\") or GB (\"1GB\")", s)
			}
			return int(f * 1024), nil
		}
	}
	for _, unit := range []string{"mb", "mib"} {
		if num, ok := strings.CutSuffix(lower, unit); ok {
			v = strings.TrimSpace(num)
			break
		}
	}
	n, err := parsePositiveInt(v)
	if err != nil {
		return 0, Client("memory: %q is not a valid memory value; use MiB (\"512\") or GB (\"1GB\")", s)
	}
	return n, nil
}

func parsePositiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, strconv.ErrRange
	}
	return n, nil
}
