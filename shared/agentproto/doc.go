// Package agentproto is the agent protocol's vocabulary: the messages of
// the BerthAgent actions (Poll, SubmitTaskStateChange, SubmitMetrics) that
// agents send and the control plane answers, on the API's endpoint in
// awsJson1_1. Both sides import it, so they cannot drift apart. Pure types.
package agentproto
