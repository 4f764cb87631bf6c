package placement

import (
	"reflect"
	"strings"
	"testing"

	"github.com/berth-run/berth/shared/ecs"
	"pgregory.net/rapid"
)

func TestScaleInBinpackStopsWhereTheMostWouldBeLeft(t *testing.T) {
	in := []Instance{host("a"), host("b"), host("c")}
	in[0].Remaining.Memory = 100
	in[1].Remaining.Memory = 3000
	in[2].Remaining.Memory = 1000
	tasks := []Task{
		{ARN: "t0", Instance: 0, Memory: 512},
		{ARN: "t1", Instance: 1, Memory: 256},  // 3000+256 = 3256
		{ARN: "t2", Instance: 2, Memory: 2048}, // 1000+2048 = 3048
		{ARN: "t3", Instance: 1, Memory: 512},  // 3000+512 = 3512: first
	}
	got, err := SelectVictims(in, tasks, []ecs.PlacementStrategy{{Type: "binpack", Field: "memory"}}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	// t3 (3512); then b has 3512 left, so t1 would leave 3768: next; then t2 (3048) beats t0 (612).
	if want := []int{3, 1, 2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stopped %v, want %v", got, want)
	}
}

func TestScaleInServiceDefaultKeepsZonesBalanced(t *testing.T) {
	in := []Instance{
		host("a1", "ecs.availability-zone=a"), host("a2", "ecs.availability-zone=a"),
		host("b1", "ecs.availability-zone=b"), host("c1", "ecs.availability-zone=c"),
	}
	tasks := []Task{
		{ARN: "0", Instance: 0}, {ARN: "1", Instance: 0}, {ARN: "2", Instance: 1}, // zone a: 3
		{ARN: "3", Instance: 2}, {ARN: "4", Instance: 2}, // zone b: 2
		{ARN: "5", Instance: 3}, // zone c: 1
	}
	got, err := SelectVictims(in, tasks, ServiceDefaultStrategies(), 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Zone a (3) from its busiest instance a1; then zones a and b tie at 2,
	// where b1 (two tasks) is busier than a1 and a2 (one each); then zone a
	// (2) alone, a1 and a2 tied: the earlier task; then every zone has one.
	if want := []int{0, 3, 1, 2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("stopped %v, want %v", got, want)
	}
}

func TestScaleInRandomIsSeededAndTakesEveryTaskWhenAskedTooMany(t *testing.T) {
	in := []Instance{host("a"), host("b")}
	var tasks []Task
	for i := range 20 {
		tasks = append(tasks, Task{ARN: string(rune('a' + i)), Instance: i % 2})
	}
	random := RunTaskDefaultStrategies()
	x, _ := SelectVictims(in, tasks, random, 5, 7)
	y, _ := SelectVictims(in, tasks, random, 5, 7)
	z, _ := SelectVictims(in, tasks, random, 5, 8)
	if !reflect.DeepEqual(x, y) || reflect.DeepEqual(x, z) {
		t.Fatalf("seed 7: %v and %v; seed 8: %v", x, y, z)
	}
	all, _ := SelectVictims(in, tasks, random, 50, 1)
	seen := map[int]bool{}
	for _, i := range all {
		seen[i] = true
	}
	if len(all) != 20 || len(seen) != 20 {
		t.Fatalf("asked for 50 of 20 tasks, got %v", all)
	}
}

func TestScaleInValidation(t *testing.T) {
	in := []Instance{host("a")}
	cases := map[string]func() error{
		"negative k": func() error { _, err := SelectVictims(in, nil, nil, -1, 0); return err },
		"strategy": func() error {
			_, err := SelectVictims(in, nil, []ecs.PlacementStrategy{{Type: "binpack", Field: "disk"}}, 1, 0)
			return err
		},
		"instance": func() error { _, err := SelectVictims(in, []Task{{Instance: 1}}, nil, 1, 0); return err },
	}
	for name, run := range cases {
		if err := run(); err == nil || !ecs.IsCode(err, ecs.InvalidParameterException) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	got, err := SelectVictims(in, []Task{{Instance: -1}, {Instance: 0}}, []ecs.PlacementStrategy{{Type: "spread", Field: "attribute:zone"}}, 1, 0)
	if err != nil || !reflect.DeepEqual(got, []int{0}) {
		t.Fatalf("task on an unknown instance: %v %v", got, err)
	}
}

// TestScaleInSpreadTakesFromTheBusiestValue: every victim comes from a
// value holding the most remaining tasks under the first spread rule.
func TestScaleInSpreadTakesFromTheBusiestValue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genCluster(t, 40)
		if len(in) == 0 {
			return
		}
		var tasks []Task
		for range rapid.IntRange(0, 100).Draw(t, "tasks") {
			tasks = append(tasks, Task{Instance: rapid.IntRange(0, len(in)-1).Draw(t, "on"), CPU: 10, Memory: 10})
		}
		field := rapid.SampledFrom([]string{"instanceId", "attribute:ecs.availability-zone", "attribute:rack"}).Draw(t, "field")
		strategies := []ecs.PlacementStrategy{{Type: "spread", Field: field}}
		for range rapid.IntRange(0, 2).Draw(t, "more") {
			strategies = append(strategies, rapid.SampledFrom(strategyPool).Draw(t, "then"))
		}
		k := rapid.IntRange(0, len(tasks)).Draw(t, "k")
		victims, err := SelectVictims(in, tasks, strategies, k, rapid.Int64().Draw(t, "seed"))
		if err != nil {
			t.Fatal(err)
		}
		if len(victims) != k {
			t.Fatalf("%d victims, want %d", len(victims), k)
		}
		value := func(task Task) string {
			if field == "instanceId" {
				return in[task.Instance].ARN
			}
			v, ok := in[task.Instance].Attributes[strings.TrimPrefix(field, "attribute:")]
			if !ok {
				return "\x00none"
			}
			return v
		}
		live := map[string]int{}
		for _, task := range tasks {
			live[value(task)]++
		}
		stopped := map[int]bool{}
		for _, v := range victims {
			if stopped[v] {
				t.Fatalf("task %d stopped twice", v)
			}
			stopped[v] = true
			most := 0
			for _, n := range live {
				most = max(most, n)
			}
			if live[value(tasks[v])] != most {
				t.Fatalf("stopped a task of %q (%d left) while another value had %d", value(tasks[v]), live[value(tasks[v])], most)
			}
			live[value(tasks[v])]--
		}
	})
}
