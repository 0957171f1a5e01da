package configs

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"
	"github.com/itchyny/gojq"
)

// The variables of a cel filter (SPEC §12). They are declared here, once,
// so that validate and the router compile every expression alike.
const (
	CELItem     = "item"     // the task's JSON item
	CELHeaders  = "headers"  // the task's headers, name -> first value
	CELWebhook  = "webhook"  // the identifier of the webhook that received it
	CELIncoming = "incoming" // the incoming configuration that made it
)

// CELCostLimit bounds one evaluation of a cel filter, in cel-go's cost
// units (about one per operation, one per element a comprehension visits;
// Kubernetes uses the same bound per expression).
const CELCostLimit = 1_000_000

// celSizeLimit bounds the text of an expression, in code points; the
// parser's own recursion limit (250) bounds its nesting.
const celSizeLimit = 100_000

// CELEnv is the environment every cel filter is compiled in: the four
// variables, the standard library, optional values (headers[?"X"]),
// cel-go's string extensions, and comparisons across int, uint and double.
func CELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(CELItem, cel.DynType),
		cel.Variable(CELHeaders, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(CELWebhook, cel.StringType),
		cel.Variable(CELIncoming, cel.StringType),
		cel.OptionalTypes(),
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(celSizeLimit),
	)
}

// CompileCEL parses and type-checks a filter expression in env (from
// CELEnv); it must yield a bool. The error is one line, for a Problem.
func CompileCEL(env *cel.Env, src string) (*cel.Ast, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty; write a CEL expression that yields true or false (item.status == \"released\")")
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		msgs := make([]string, 0, len(iss.Errors()))
		for _, e := range iss.Errors() {
			msgs = append(msgs, fmt.Sprintf("%d:%d: %s", e.Location.Line(), e.Location.Column()+1, e.Message))
		}
		return nil, fmt.Errorf("invalid CEL: %s", clipMessage(strings.Join(msgs, "; ")))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("yields %s, not bool; a filter must yield true or false (compare the value: item.flag == true)", t)
	}
	if _, err := PlanCEL(env, ast, cel.EvalOptions(cel.OptOptimize)); err != nil {
		return nil, err
	}
	return ast, nil
}

// PlanCEL builds the program of a checked expression. cel-go's checker
// accepts some expressions its planner then panics on (it folds
// {b"": ""}, a map with a bytes key, into a Go map): validate refuses
// them and the router never starts with one. cel-go's Eval recovers its
// own panics.
func PlanCEL(env *cel.Env, ast *cel.Ast, opts ...cel.ProgramOption) (prg cel.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prg, err = nil, fmt.Errorf("invalid CEL: cel-go cannot plan it: %v", r)
		}
	}()
	prg, err = env.Program(ast, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid CEL: %w", err)
	}
	return prg, nil
}

// CompileJQ parses and compiles a transform program; it also returns the
// parsed program, for what the router reads of its syntax. It reads no
// environment variables ($ENV and env are empty, so a program cannot copy
// a secret into a delivery) and no further inputs (input and inputs fail).
func CompileJQ(src string) (*gojq.Code, *gojq.Query, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil, errors.New("empty; write a jq program that yields the new item ({id: .id})")
	}
	q, err := gojq.Parse(src)
	if err != nil {
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("invalid jq at offset %d: %s", pe.Offset, clipMessage(pe.Error()))
		}
		return nil, nil, fmt.Errorf("invalid jq: %s", clipMessage(err.Error()))
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, nil, fmt.Errorf("invalid jq: %s", clipMessage(err.Error()))
	}
	return code, q, nil
}

// clipMessage shortens a compiler's message to one readable line: the
// compilers quote the expression, which may be long.
func clipMessage(s string) string {
	const max = 300
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
