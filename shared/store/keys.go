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
	case strings.HasPrefix(k.PK, "AS#") || strings.HasPrefix(k.PK, "CW#"):
		return autoscalingKindOf(k)
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

// Application Auto Scaling and the local CloudWatch stand-in:
//
//	item               PK                              SK                    GSI1 (PK | SK)
//	scalable target    AS#<ns>#<resource>#<dimension>  T                     AS#<ns>#TARGETS | <resource>#<dimension>
//	scaling policy     AS#<ns>#<resource>#<dimension>  P#<policy name>       AS#<ns>#POLICIES | <resource>#<dimension>#<policy name>
//	scaling activity   AS#<ns>#ACT#<resource>#<dim>    <seq:12>              AS#<ns>#ACT | <start ms:15>#<resource>#<dimension>#<seq:12>
//	alarm (local)      CW#ALARM                        <alarm name>
//	metric (local)     CW#ECS#<cluster>#<service>      <minute:12>#<instance>
//
// A target and its policies share a partition, so the scaler reads them in
// one Query; the GSI1 partitions list a namespace's targets, policies and
// activities for the Describe actions.
const (
	pkAlarms     = "CW#ALARM"
	skTarget     = "T"
	policyPrefix = "P#"
)

func scalingTargetPK(namespace, resourceID, dimension string) string {
	return "AS#" + namespace + "#" + resourceID + "#" + dimension
}

func scalableTargetKey(namespace, resourceID, dimension string) Key {
	return Key{PK: scalingTargetPK(namespace, resourceID, dimension), SK: skTarget}
}

func scalableTargetIndexKey(namespace, resourceID, dimension string) Key {
	return Key{PK: "AS#" + namespace + "#TARGETS", SK: resourceID + "#" + dimension}
}

func scalingPolicyKey(namespace, resourceID, dimension, name string) Key {
	return Key{PK: scalingTargetPK(namespace, resourceID, dimension), SK: policyPrefix + name}
}

func scalingPolicyIndexPK(namespace string) string { return "AS#" + namespace + "#POLICIES" }

func scalingPolicyIndexKey(namespace, resourceID, dimension, name string) Key {
	return Key{PK: scalingPolicyIndexPK(namespace), SK: resourceID + "#" + dimension + "#" + name}
}

func scalingActivityPK(namespace, resourceID, dimension string) string {
	return "AS#" + namespace + "#ACT#" + resourceID + "#" + dimension
}

func scalingActivityKey(namespace, resourceID, dimension string, seq int64) Key {
	return Key{PK: scalingActivityPK(namespace, resourceID, dimension), SK: fmt.Sprintf("%012d", seq)}
}

func scalingActivityIndexPK(namespace string) string { return "AS#" + namespace + "#ACT" }

func scalingActivityIndexKey(namespace, resourceID, dimension string, startMilli, seq int64) Key {
	return Key{PK: scalingActivityIndexPK(namespace), SK: fmt.Sprintf("%015d#%s#%s#%012d", startMilli, resourceID, dimension, seq)}
}

func alarmKey(name string) Key { return Key{PK: pkAlarms, SK: name} }

func metricsPK(cluster, service string) string { return "CW#ECS#" + cluster + "#" + service }

func metricKey(cluster, service string, minute int64, instanceID string) Key {
	return Key{PK: metricsPK(cluster, service), SK: fmt.Sprintf("%012d#%s", minute, instanceID)}
}

// More item kinds.
const (
	KindScalableTarget Kind = iota + KindOther + 1
	KindScalingPolicy
	KindScalingActivity
	KindAlarm
	KindMetric
)

func autoscalingKindOf(k Key) Kind {
	switch {
	case k.PK == pkAlarms:
		return KindAlarm
	case strings.HasPrefix(k.PK, "CW#ECS#"):
		return KindMetric
	case strings.HasPrefix(k.PK, "AS#") && strings.Contains(k.PK, "#ACT#"):
		return KindScalingActivity
	case strings.HasPrefix(k.PK, "AS#") && k.SK == skTarget:
		return KindScalableTarget
	case strings.HasPrefix(k.PK, "AS#") && strings.HasPrefix(k.SK, policyPrefix):
		return KindScalingPolicy
	}
	return KindOther
}
