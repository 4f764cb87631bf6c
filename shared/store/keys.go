package store

import (
	"fmt"
	"strings"
)

// The table layout. Every hot read is a Query on one partition:
//
//	item               PK                              SK                    GSI1 (PK | SK)                      GSI2 (PK | SK)
//	cluster            CLUSTER                         <name>
//	family             FAMILY                          <family>
//	task definition    TD#<family>                     R#<revision:10>       TDS | <status>#<family>#<rev:10>
//	container instance C#<cluster>#CI                  <id>
//	heartbeat          C#<cluster>#HB#<id>             HB
//	task               C#<cluster>#G#<group>           <id>                  C#<cluster>#CI#<instance> | <id>    C#<cluster>#T | <desired>#<id>
//	task pointer       C#<cluster>#TID                 <id>
//	service            C#<cluster>#S                   <name>
//	client token       C#<cluster>#TOKEN               <token>
//
// Tasks live in the partition of their group (service:<name> for service
// tasks) so the reconciler reads a service's tasks strongly consistently;
// the pointer item maps a task ID to its group for DescribeTasks and StopTask.
const (
	pkClusters = "CLUSTER"
	pkFamilies = "FAMILY"
	pkTDStatus = "TDS"
)

func clusterKey(name string) Key { return Key{PK: pkClusters, SK: name} }

func familyKey(family string) Key { return Key{PK: pkFamilies, SK: family} }

func taskDefinitionPK(family string) string { return "TD#" + family }

func taskDefinitionKey(family string, revision int) Key {
	return Key{PK: taskDefinitionPK(family), SK: revisionSK(revision)}
}

func revisionSK(revision int) string { return fmt.Sprintf("R#%010d", revision) }

func taskDefinitionStatusKey(status, family string, revision int) Key {
	return Key{PK: pkTDStatus, SK: fmt.Sprintf("%s#%s#%010d", status, family, revision)}
}

func instancesPK(cluster string) string { return "C#" + cluster + "#CI" }

func instanceKey(cluster, id string) Key { return Key{PK: instancesPK(cluster), SK: id} }

func heartbeatKey(cluster, id string) Key { return Key{PK: "C#" + cluster + "#HB#" + id, SK: "HB"} }

func groupPK(cluster, group string) string { return "C#" + cluster + "#G#" + group }

func taskKey(cluster, group, id string) Key { return Key{PK: groupPK(cluster, group), SK: id} }

func tasksByInstancePK(cluster, instanceID string) string {
	return "C#" + cluster + "#CI#" + instanceID
}

func tasksByClusterPK(cluster string) string { return "C#" + cluster + "#T" }

func taskPointerKey(cluster, id string) Key { return Key{PK: "C#" + cluster + "#TID", SK: id} }

func servicesPK(cluster string) string { return "C#" + cluster + "#S" }

func serviceKey(cluster, name string) Key { return Key{PK: servicesPK(cluster), SK: name} }

func clientTokenKey(cluster, token string) Key { return Key{PK: "C#" + cluster + "#TOKEN", SK: token} }

// Kind tells what a stored item is from its key, so change-feed consumers
// can decode it.
type Kind int

// Item kinds.
const (
	KindUnknown Kind = iota
	KindCluster
	KindFamily
	KindTaskDefinition
	KindInstance
	KindHeartbeat
	KindTask
	KindTaskPointer
	KindService
	KindClientToken
	KindOther
)

// KindOf classifies a key by the layout above.
func KindOf(k Key) Kind {
	switch {
	case k.PK == pkClusters:
		return KindCluster
	case k.PK == pkFamilies:
		return KindFamily
	case strings.HasPrefix(k.PK, "TD#"):
		if strings.HasPrefix(k.SK, "R#") {
			return KindTaskDefinition
		}
		return KindOther
	case !strings.HasPrefix(k.PK, "C#"):
		return KindOther
	}
	_, rest, _ := strings.Cut(k.PK[len("C#"):], "#")
	switch {
	case rest == "CI":
		return KindInstance
	case strings.HasPrefix(rest, "HB#"):
		return KindHeartbeat
	case strings.HasPrefix(rest, "G#"):
		return KindTask
	case rest == "TID":
		return KindTaskPointer
	case rest == "S":
		return KindService
	case rest == "TOKEN":
		return KindClientToken
	}
	return KindOther
}
