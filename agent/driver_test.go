package agent

import (
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

func TestHealthCheckFromECSAppliesDefaults(t *testing.T) {
	if HealthCheckFromECS(nil) != nil {
		t.Fatal("nil check converted to a check")
	}
	interval := 10
	got := HealthCheckFromECS(&ecs.HealthCheck{Command: []string{"CMD", "x"}, Interval: &interval})
	if got.Interval != 10*time.Second || got.Timeout != 5*time.Second || got.Retries != 3 || got.StartPeriod != 0 || got.Command[1] != "x" {
		t.Fatalf("converted %+v", got)
	}
	if (PortMapping{}).ProtocolOrDefault() != "tcp" || (PortMapping{Protocol: "udp"}).ProtocolOrDefault() != "udp" {
		t.Fatal("protocol default")
	}
}
