// Package cql is ECS's cluster query language: the expressions of memberOf
// placement constraints and of ListContainerInstances' filter, such as
//
//	attribute:ecs.instance-type =~ t2.* and not(task:group == database)
//
// Compile parses and checks an expression once; (*Expr).Eval then decides it
// for any number of container instances, seen through the Subject interface.
// (*Expr).String prints a canonical form that compiles back to an equal
// expression.
//
// Grammar (keywords and word operators are case-insensitive):
//
//	expr    = and { ("or" | "||") and }
//	and     = unary { ("and" | "&&") unary }
//	unary   = ("not" | "!") unary | "(" expr ")" | term
//	term    = subject operator [argument]
//	subject = agentConnected | agentVersion | attribute:<name> | ec2InstanceId
//	        | registeredAt | runningTasksCount | task:group
//	argument = value | "[" value { "," value } "]"   (lists for in / not_in)
//	value   = 'quoted' | "quoted" | bare
//
// A bare value runs to the next space or one of ( ) [ ] , ' " = ! < > ~ & |.
// A bare regular expression (after =~ or !~) runs to the next space, quote,
// "&&" or "||", or to a ")" that closes no parenthesis opened in it; quote
// it to include those. Quoted values have no escapes: quote with ' or ".
//
// Semantics Berth settles where ECS documents none:
//   - A comparison on an attribute the instance lacks is false, whatever the
//     operator (so "attribute:stack != prod" selects instances that have a
//     stack attribute other than prod, as ECS's documentation describes);
//     only "!exists" holds. Wrap in not(...) to include instances without it.
//     The same holds for an empty ec2InstanceId, an unparseable agentVersion
//     and a zero registeredAt.
//   - task:group is set-valued: "==", "in" and "=~" hold when some task group
//     on the instance matches; "!=", "!in" and "!~" when none does; "exists"
//     when the instance hosts any task, "!exists" when it hosts none.
//   - Ordering operators on an attribute compare numerically when both sides
//     are numbers, else byte-wise as strings.
//   - agentVersion compares semantic versions (1.14 == 1.14.0; a pre-release
//     sorts before its release). registeredAt takes 2018-06-18T22:28:28+00:00,
//     2018-06-18T22:28:28Z, 2018-06-18T22:28:28 (UTC) or 2018-06-18 (UTC);
//     an argument stands for the whole second or day it names, so
//     "registeredAt == 2018-06-18" holds all that day and "< 2018-06-18"
//     before it began.
//   - Regular expressions must match the whole value, as Java's
//     String.matches does (so "=~ t2.*" matches t2.small but not xt2).
//     ECS uses Java regex, Berth Go's RE2: constructs RE2 lacks or reads
//     differently are rejected with a clear error (backreferences,
//     lookaround, atomic groups, possessive quantifiers, nested or
//     intersected character classes, the U, x, d, u and c flags, \Z);
//     \uXXXX is translated to RE2's \x{XXXX}.
package cql
