// Package bustest holds what every bus adapter's tests share: the sample
// events kept in the repository's events/ directory (built here from ecs
// types, so they stay exactly what Berth emits), and for each sample the
// names of Berth's rules that must match it and of those that must not.
package bustest
