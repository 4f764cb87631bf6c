package placement

import "slices"

// A key is an instance's per-instance strategy values (remaining CPU or
// memory for binpack, tasks of the group for spread on instanceId), lowest
// preferred; instances with equal values are ordered by index. sortKey
// holds a copy of one, at most one value per strategy rule.
type sortKey [5]int64

const none int32 = -1

// treaps is a forest of order-statistic treaps over instance indices: every
// instance is in at most one tree, so one set of arrays serves every leaf
// of the index. Priorities are a hash of the index, so shapes (and costs)
// are deterministic.
type treaps struct {
	width             int // strategy values per key
	left, right, size []int32
	keys              []int64 // width values per instance
}

func newTreaps(n, width int) *treaps {
	return &treaps{
		width: width,
		left:  make([]int32, n),
		right: make([]int32, n),
		size:  make([]int32, n),
		keys:  make([]int64, n*width),
	}
}

// key is instance i's strategy values.
func (t *treaps) key(i int32) []int64 {
	return t.keys[int(i)*t.width : int(i+1)*t.width]
}

// prio is node i's heap priority: a hash of its index.
func prio(i int32) uint32 { return uint32(mix64(uint64(i)) >> 32) }

// mix64 is SplitMix64's finalizer: a cheap, well-spread hash.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// comparePrefix orders two keys on their strategy values only.
func comparePrefix(a, b []int64) int {
	for k := range a {
		switch {
		case a[k] < b[k]:
			return -1
		case a[k] > b[k]:
			return 1
		}
	}
	return 0
}

// less orders instances by key, then index.
func (t *treaps) less(a, b int32) bool {
	if c := comparePrefix(t.key(a), t.key(b)); c != 0 {
		return c < 0
	}
	return a < b
}

func (t *treaps) sz(x int32) int32 {
	if x == none {
		return 0
	}
	return t.size[x]
}

func (t *treaps) update(x int32) { t.size[x] = 1 + t.sz(t.left[x]) + t.sz(t.right[x]) }

// insert adds x (whose key is set) to the tree rooted at root.
func (t *treaps) insert(root, x int32) int32 {
	if root == none {
		t.left[x], t.right[x], t.size[x] = none, none, 1
		return x
	}
	if prio(x) > prio(root) {
		t.left[x], t.right[x] = t.split(root, x)
		t.update(x)
		return x
	}
	if t.less(x, root) {
		t.left[root] = t.insert(t.left[root], x)
	} else {
		t.right[root] = t.insert(t.right[root], x)
	}
	t.update(root)
	return root
}

// split divides a tree into the nodes ordered before x and the rest.
func (t *treaps) split(root, x int32) (int32, int32) {
	if root == none {
		return none, none
	}
	if t.less(root, x) {
		l, r := t.split(t.right[root], x)
		t.right[root] = l
		t.update(root)
		return root, r
	}
	l, r := t.split(t.left[root], x)
	t.left[root] = r
	t.update(root)
	return l, root
}

// remove takes x (with the key it was inserted under) out of the tree.
func (t *treaps) remove(root, x int32) int32 {
	if root == x {
		return t.merge(t.left[x], t.right[x])
	}
	if t.less(x, root) {
		t.left[root] = t.remove(t.left[root], x)
	} else {
		t.right[root] = t.remove(t.right[root], x)
	}
	t.update(root)
	return root
}

// merge joins two trees whose every node of a precedes every node of b.
func (t *treaps) merge(a, b int32) int32 {
	switch {
	case a == none:
		return b
	case b == none:
		return a
	case prio(a) > prio(b):
		t.right[a] = t.merge(t.right[a], b)
		t.update(a)
		return a
	}
	t.left[b] = t.merge(a, t.left[b])
	t.update(b)
	return b
}

// build makes a tree of nodes whose keys are set, in O(n log n) for the
// sort and O(n) for the tree: the treap of a sorted sequence is its
// Cartesian tree by priority.
func (t *treaps) build(nodes []int32) int32 {
	t.sortNodes(nodes)
	var stack []int32
	for _, x := range nodes {
		t.left[x], t.right[x] = none, none
		last := none
		for len(stack) > 0 && prio(stack[len(stack)-1]) < prio(x) {
			last = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		t.left[x] = last
		if len(stack) > 0 {
			t.right[stack[len(stack)-1]] = x
		}
		stack = append(stack, x)
	}
	if len(stack) == 0 {
		return none
	}
	t.fixSizes(stack[0])
	return stack[0]
}

// sortNodes sorts by key, then index.
func (t *treaps) sortNodes(nodes []int32) {
	switch {
	case t.width == 0:
		slices.Sort(nodes)
	case t.width == 1 && t.sortPacked(nodes):
	default:
		t.sortKeyed(nodes)
	}
}

// Packed sorting holds a one-value key and the index in one word.
const (
	packIndexBits = 24
	packKeyLimit  = 1 << (63 - packIndexBits)
)

// sortPacked sorts one-value keys as integers (the common case: binpack on
// memory or CPU), and reports false if a key or index is out of range.
func (t *treaps) sortPacked(nodes []int32) bool {
	buf := make([]uint64, len(nodes))
	for j, i := range nodes {
		k := t.keys[i]
		if k < 0 || k >= packKeyLimit || i >= 1<<packIndexBits {
			return false
		}
		buf[j] = uint64(k)<<packIndexBits | uint64(i)
	}
	slices.Sort(buf)
	for j, w := range buf {
		nodes[j] = int32(w & (1<<packIndexBits - 1))
	}
	return true
}

// sortKeyed copies keys next to their index before sorting: comparing in
// place would chase every index into the key array.
func (t *treaps) sortKeyed(nodes []int32) {
	type keyed struct {
		key sortKey
		i   int32
	}
	buf := make([]keyed, len(nodes))
	for j, i := range nodes {
		buf[j].i = i
		copy(buf[j].key[:], t.key(i))
	}
	slices.SortFunc(buf, func(a, b keyed) int {
		if c := comparePrefix(a.key[:t.width], b.key[:t.width]); c != 0 {
			return c
		}
		return int(a.i - b.i)
	})
	for j := range buf {
		nodes[j] = buf[j].i
	}
}

func (t *treaps) fixSizes(x int32) int32 {
	if x == none {
		return 0
	}
	t.size[x] = 1 + t.fixSizes(t.left[x]) + t.fixSizes(t.right[x])
	return t.size[x]
}

func (t *treaps) first(root int32) int32 {
	for root != none && t.left[root] != none {
		root = t.left[root]
	}
	return root
}

// countPrefixAtMost counts the nodes whose strategy values are at most p.
func (t *treaps) countPrefixAtMost(root int32, p []int64) int {
	n := 0
	for root != none {
		if comparePrefix(t.key(root), p) <= 0 {
			n += int(t.sz(t.left[root])) + 1
			root = t.right[root]
		} else {
			root = t.left[root]
		}
	}
	return n
}

// kth returns the node at 0-based position k in order.
func (t *treaps) kth(root int32, k int) int32 {
	for root != none {
		l := int(t.sz(t.left[root]))
		switch {
		case k < l:
			root = t.left[root]
		case k == l:
			return root
		default:
			k -= l + 1
			root = t.right[root]
		}
	}
	return none
}

// appendFirst appends the first n nodes in order to out.
func (t *treaps) appendFirst(root int32, n int, out []int32) []int32 {
	if root == none || n <= 0 {
		return out
	}
	out = t.appendFirst(t.left[root], n, out)
	l := int(t.sz(t.left[root]))
	if n > l {
		out = append(out, root)
		out = t.appendFirst(t.right[root], n-l-1, out)
	}
	return out
}
