package process

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-run/berth/agent"
	"github.com/berth-run/berth/shared/ecs"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// prepareLaunch resolves what the shim will run: host ports, environment,
// working directory and user.
func prepareLaunch(spec agent.ContainerSpec, dir string) (launch, error) {
	bindings, err := hostPorts(spec)
	if err != nil {
		return launch{}, err
	}
	l := launch{
		Argv:               append(slices.Clone(spec.EntryPoint), spec.Command...),
		Env:                environment(spec, bindings),
		Dir:                spec.WorkingDirectory,
		HealthCheck:        spec.HealthCheck,
		DefaultStopTimeout: spec.StopTimeout,
		Bindings:           bindings,
	}
	if l.Dir == "" {
		l.Dir = dir
	}
	if l.DefaultStopTimeout <= 0 {
		l.DefaultStopTimeout = DefaultStopTimeout
	}
	if spec.User != "" {
		uid, gid, err := resolveUser(spec.User)
		if err != nil {
			return launch{}, err
		}
		// Switching to the agent's own identity needs no privilege, and
		// asking for it anyway would fail when the agent is not root.
		if int(uid) != os.Getuid() || int(gid) != os.Getgid() {
			l.UID, l.GID = &uid, &gid
		}
	}
	return l, nil
}

// hostPorts gives each mapping its host port: a static one as is, 0 a free
// ephemeral port (in host network mode, ECS's rule: the container port).
func hostPorts(spec agent.ContainerSpec) ([]ecs.NetworkBinding, error) {
	var out []ecs.NetworkBinding
	for i, m := range spec.PortMappings {
		proto := m.ProtocolOrDefault()
		port := m.HostPort
		if port == 0 && spec.NetworkMode == agent.NetworkHost {
			port = m.ContainerPort
		}
		if port == 0 {
			free, err := freePort(proto)
			if err != nil {
				return nil, fmt.Errorf("portMappings[%d]: pick a free %s port: %w", i, proto, err)
			}
			port = free
		}
		out = append(out, ecs.NetworkBinding{BindIP: "0.0.0.0", ContainerPort: m.ContainerPort, HostPort: port, Protocol: proto})
	}
	return out, nil
}

// freePort asks the kernel for a port of its ephemeral range that is free
// now. Another program could take it before the process binds it; the
// kernel hands ephemeral ports out in turn, which makes that unlikely.
func freePort(proto string) (int, error) {
	if proto == "udp" {
		c, err := net.ListenPacket("udp", ":0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// environment is the process's environment: PATH and HOME from the agent
// unless the definition sets them, the definition's variables, GPU
// visibility, and the port variables, which win because a host process must
// listen on its host ports.
func environment(spec agent.ContainerSpec, bindings []ecs.NetworkBinding) []string {
	env := map[string]string{"PATH": defaultPath}
	if p := os.Getenv("PATH"); p != "" {
		env["PATH"] = p
	}
	if h := os.Getenv("HOME"); h != "" {
		env["HOME"] = h
	}
	maps.Copy(env, spec.Environment)
	if len(spec.GPUIDs) > 0 {
		ids := strings.Join(spec.GPUIDs, ",")
		env["NVIDIA_VISIBLE_DEVICES"] = ids
		env["CUDA_VISIBLE_DEVICES"] = ids
	}
	for i, b := range bindings {
		if i == 0 {
			env["PORT"] = strconv.Itoa(b.HostPort)
		}
		env["PORT_"+strconv.Itoa(b.ContainerPort)] = strconv.Itoa(b.HostPort)
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// resolveUser reads Docker's user forms: name, uid, name:group, uid:gid.
func resolveUser(spec string) (uint32, uint32, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	u, err := lookupUser(name)
	if err != nil {
		return 0, 0, fmt.Errorf("user %q: %w", spec, err)
	}
	uid, err := parseID(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %q: %w", spec, err)
	}
	gid, err := parseID(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("user %q: %w", spec, err)
	}
	if hasGroup {
		if gid, err = lookupGroup(group); err != nil {
			return 0, 0, fmt.Errorf("user %q: %w", spec, err)
		}
	}
	return uid, gid, nil
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		u, err := user.LookupId(name)
		if err != nil {
			// A numeric uid needs no passwd entry; its group is then its own.
			return &user.User{Uid: name, Gid: name}, nil
		}
		return u, nil
	}
	return user.Lookup(name)
}

func lookupGroup(name string) (uint32, error) {
	if id, err := parseID(name); err == nil {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	return parseID(g.Gid)
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("id %q is not a number", s)
	}
	return uint32(n), nil
}
