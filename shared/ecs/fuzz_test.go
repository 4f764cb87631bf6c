package ecs

import (
	"encoding/json"
	"testing"
)

// FuzzPrepareTaskDefinition feeds arbitrary JSON task definitions through
// validation: it must never panic, and whatever it accepts must satisfy the
// invariants ECS guarantees of a registered definition.
func FuzzPrepareTaskDefinition(f *testing.F) {
	seeds := []string{
		`{"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128}]}`,
		`{"family":"web","cpu":"1 vCPU","memory":"2GB","containerDefinitions":[{"name":"a","image":"x","portMappings":[{"containerPort":80,"hostPort":0}]}]}`,
		`{"family":"w","networkMode":"host","containerDefinitions":[{"name":"a","image":"x","memoryReservation":64,"portMappings":[{"containerPort":80}],"healthCheck":{"command":["CMD-SHELL","true"],"interval":5}}]}`,
		`{"family":"w","containerDefinitions":[{"name":"a","image":"x","memory":64,"dependsOn":[{"containerName":"b","condition":"HEALTHY"}]},{"name":"b","image":"y","memory":64,"essential":false,"healthCheck":{"command":["CMD","true"]}}]}`,
		`{"family":"","containerDefinitions":[]}`,
		`{"family":"w","containerDefinitions":[{"name":"a","image":"x","memory":64,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var td TaskDefinition
		if json.Unmarshal(data, &td) != nil {
			return
		}
		if err := PrepareTaskDefinition(&td); err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("non-ECS error %T: %v", err, err)
			}
			return
		}
		checkPrepared(t, &td)
	})
}

func checkPrepared(t *testing.T, td *TaskDefinition) {
	if !ValidName(td.Family) || len(td.ContainerDefinitions) < 1 || len(td.ContainerDefinitions) > MaxContainers {
		t.Fatalf("accepted an invalid family or container count: %+v", td)
	}
	essential := false
	for _, c := range td.ContainerDefinitions {
		essential = essential || c.IsEssential()
		if c.Memory != nil && c.MemoryReservation != nil && *c.Memory <= *c.MemoryReservation {
			t.Fatalf("accepted memory %d <= reservation %d", *c.Memory, *c.MemoryReservation)
		}
	}
	if !essential {
		t.Fatal("accepted a task definition with no essential container")
	}
	if r := TaskRequirements(td, nil); r.CPU < 0 || r.Memory < 0 {
		t.Fatalf("negative requirements %+v", r)
	}
}
