package api

import (
	"github.com/berth-run/berth/shared/control"
)

// RegisterAgent serves the agent protocol.
func (s *Server) RegisterAgent(c *control.Control) {
	add(s, AgentPrefix, "Poll", c.Poll)
	add(s, AgentPrefix, "SubmitTaskStateChange", c.SubmitTaskStateChange)
}

// RegisterEvents serves EventBridge's PutEvents (local control plane only).
func (s *Server) RegisterEvents(e *control.Events) {
	add(s, EventsPrefix, "PutEvents", e.PutEvents)
}
