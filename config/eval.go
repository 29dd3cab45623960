package config

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// instance is one evaluated resource instance.
type instance struct {
	addr  string
	kind  string
	value cty.Value
	res   any // *Network, *Host, ...
}

// evaluate evaluates every node in dependency order and fills l.lab.
func (l *loader) evaluate() {
	order := l.order()
	for _, n := range order {
		if n.bad {
			n.failed = true
			continue
		}
		skip := false
		for _, d := range n.deps {
			if d.failed {
				skip = true
			}
		}
		if skip {
			n.failed = true
			continue
		}
		var ok bool
		switch n.kind {
		case nodeVar:
			ok = l.evalVariable(n)
		case nodeLocal:
			ok = l.evalLocal(n)
		case nodeOutput:
			ok = l.evalOutput(n)
		case nodeResource:
			ok = l.evalResource(n)
		}
		n.failed = !ok
	}
	var outs []*node
	for n := range l.outputs {
		outs = append(outs, n)
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].decl < outs[j].decl })
	for _, n := range outs {
		l.lab.Outputs = append(l.lab.Outputs, l.outputs[n])
	}
}

// ctx returns an evaluation context with every value evaluated so far.
func (l *loader) ctx() *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(l.varVals),
		"local": cty.ObjectVal(l.localVals),
	}
	for _, k := range resourceKinds() {
		vars[k] = cty.ObjectVal(l.resVals[k])
	}
	return &hcl.EvalContext{Variables: vars, Functions: l.funcs}
}

func (l *loader) eval(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	v, diags := expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	if !v.IsWhollyKnown() {
		l.errorf(expr.Range().Ptr(), "Value not known", "The value of this expression cannot be determined.")
		return cty.DynamicVal, false
	}
	return v, true
}

// --- variables ---

func (l *loader) evalVariable(n *node) bool {
	ty := cty.DynamicPseudoType
	if a, ok := n.attrs["type"]; ok {
		t, diags := typeexpr.TypeConstraint(a.Expr)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			return false
		}
		ty = t
	}
	if a, ok := n.attrs["description"]; ok {
		v, ok := l.eval(a.Expr, l.constCtx())
		if !ok {
			return false
		}
		if _, ok := l.toString(v, "description", a.Expr); !ok {
			return false
		}
	}
	name := n.label
	conv := func(v cty.Value, subject *hcl.Range, source string) bool {
		cv, err := convert.Convert(v, ty)
		if err != nil {
			l.errorf(subject, "Invalid value for variable",
				"The value for variable %q from %s is not valid: %s (the variable's type is %s).",
				name, source, err, typeexpr.TypeString(ty))
			return false
		}
		l.varVals[name] = cv
		return true
	}
	raw := func(text, source string) bool {
		if ty == cty.String || ty == cty.DynamicPseudoType {
			return conv(cty.StringVal(text), &n.rng, source)
		}
		expr, diags := hclsyntax.ParseExpression([]byte(text), source, hcl.InitialPos)
		if diags.HasErrors() {
			l.errorf(&n.rng, "Invalid value for variable",
				"The value %q for variable %q from %s is not a valid expression: %s.", text, name, source, diags.Errs()[0])
			return false
		}
		v, diags := expr.Value(l.constCtx())
		if diags.HasErrors() {
			l.errorf(&n.rng, "Invalid value for variable",
				"The value %q for variable %q from %s is not valid: %s.", text, name, source, diags.Errs()[0])
			return false
		}
		return conv(v, &n.rng, source)
	}
	if text, ok := l.opts.Vars[name]; ok {
		return raw(text, "-var "+name)
	}
	if fv, ok := l.varFileVals[name]; ok {
		return conv(fv.val, fv.expr.Range().Ptr(), fv.file)
	}
	if text, ok := l.envVars()[name]; ok {
		return raw(text, "environment variable "+EnvVarPrefix+name)
	}
	if a, ok := n.attrs["default"]; ok {
		v, ok := l.eval(a.Expr, l.constCtx())
		if !ok {
			return false
		}
		return conv(v, a.Expr.Range().Ptr(), "its default")
	}
	l.errorf(&n.rng, "No value for required variable",
		"The variable %q has no default; set it with -var %s=..., a -var-file or the environment variable %s%s.",
		name, name, EnvVarPrefix, name)
	return false
}

// --- locals and outputs ---

func (l *loader) evalLocal(n *node) bool {
	ctx := l.ctx()
	v, ok := l.eval(n.expr, ctx)
	if !ok {
		return false
	}
	l.localVals[n.label] = v
	l.localRefs[n.label] = l.refsOf(n, ctx)
	return true
}

func (l *loader) evalOutput(n *node) bool {
	ctx := l.ctx()
	d := l.newDec(n.attrs, ctx)
	out := &Output{Name: n.label, Value: d.vals["value"]}
	if s, ok := d.str("description"); ok {
		out.Description = s
	}
	if b, ok := d.boolean("sensitive"); ok {
		out.Sensitive = b
	}
	if !d.ok {
		return false
	}
	if !out.Value.IsKnown() {
		return false
	}
	l.outputs[n] = out
	return true
}

// --- resources ---

// instKey is one instance key: count index, for_each key, or none.
type instKey struct {
	index int
	key   string
	each  cty.Value // each.value
}

type expansion int

const (
	single expansion = iota
	counted
	forEach
)

// expand evaluates count / for_each.
func (l *loader) expand(n *node, ctx *hcl.EvalContext) (expansion, []instKey, bool) {
	if a, ok := n.attrs["count"]; ok {
		v, ok := l.eval(a.Expr, ctx)
		if !ok {
			return counted, nil, false
		}
		rng := a.Expr.Range().Ptr()
		if v.IsNull() {
			l.errorf(rng, "Invalid count argument", "The count must be a whole number, not null.")
			return counted, nil, false
		}
		nv, err := convert.Convert(v, cty.Number)
		if err != nil {
			l.errorf(rng, "Invalid count argument", "The count must be a whole number: %s.", err)
			return counted, nil, false
		}
		bf := nv.AsBigFloat()
		if !bf.IsInt() {
			l.errorf(rng, "Invalid count argument", "The count must be a whole number, got %s.", bf.Text('g', -1))
			return counted, nil, false
		}
		if bf.Sign() < 0 {
			l.errorf(rng, "Invalid count argument", "The count must not be negative, got %s.", bf.Text('g', -1))
			return counted, nil, false
		}
		if c, _ := bf.Int64(); c > int64(maxCount) {
			l.errorf(rng, "Invalid count argument", "The count must be at most %d, got %s.", maxCount, bf.Text('g', -1))
			return counted, nil, false
		}
		c, _ := bf.Int64()
		keys := make([]instKey, c)
		for i := range keys {
			keys[i].index = i
		}
		return counted, keys, true
	}
	if a, ok := n.attrs["for_each"]; ok {
		v, ok := l.eval(a.Expr, ctx)
		if !ok {
			return forEach, nil, false
		}
		rng := a.Expr.Range().Ptr()
		ty := v.Type()
		var keys []instKey
		switch {
		case v.IsNull():
			l.errorf(rng, "Invalid for_each argument", "for_each must be a set of strings or a map, not null.")
			return forEach, nil, false
		case ty.IsSetType() && ty.ElementType() == cty.String:
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() {
					l.errorf(rng, "Invalid for_each argument", "for_each must not contain null.")
					return forEach, nil, false
				}
				keys = append(keys, instKey{key: e.AsString(), each: e})
			}
		case ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				keys = append(keys, instKey{key: k.AsString(), each: e})
			}
		default:
			hint := ""
			if ty.IsTupleType() || ty.IsListType() {
				hint = " Use toset(...) to turn a list of strings into a set."
			}
			l.errorf(rng, "Invalid for_each argument",
				"for_each must be a set of strings or a map, got %s.%s", typeName(ty), hint)
			return forEach, nil, false
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
		for _, k := range keys {
			if !eachKeyRe.MatchString(k.key) {
				l.errorf(rng, "Invalid for_each key",
					"The for_each key %q must start with a lowercase letter or digit and contain only lowercase letters, digits, '-' and '_' (%s).",
					k.key, eachKeyRe)
				return forEach, nil, false
			}
		}
		return forEach, keys, true
	}
	return single, []instKey{{}}, true
}

// evalResource evaluates every instance of a resource block.
func (l *loader) evalResource(n *node) bool {
	ctx := l.ctx()
	mode, keys, ok := l.expand(n, ctx)
	if !ok {
		return false
	}
	baseName := strings.ReplaceAll(n.label, "_", "-")
	allOK := true
	var tuple []cty.Value
	object := map[string]cty.Value{}
	var insts []*instance
	for _, k := range keys {
		ictx := ctx
		addr, name := n.addr, baseName
		switch mode {
		case counted:
			ictx = ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{
				"index": cty.NumberIntVal(int64(k.index)),
			})}
			addr = fmt.Sprintf("%s[%d]", n.addr, k.index)
			name = fmt.Sprintf("%s-%d", baseName, k.index)
		case forEach:
			ictx = ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
				"key":   cty.StringVal(k.key),
				"value": k.each,
			})}
			addr = fmt.Sprintf("%s[%q]", n.addr, k.key)
			name = baseName + "-" + strings.ReplaceAll(k.key, "_", "-")
		}
		inst, refs := l.decodeInstance(n, ictx, addr, name)
		if inst == nil {
			allOK = false
			continue
		}
		l.instances[addr] = inst
		insts = append(insts, inst)
		tuple = append(tuple, inst.value)
		object[k.key] = inst.value
		// Lab.Deps: expression references plus resolved argument references.
		set := l.refsOf(n, ictx)
		for r := range refs {
			set[r] = true
		}
		delete(set, addr)
		deps := make([]string, 0, len(set))
		for r := range set {
			deps = append(deps, r)
		}
		sort.Strings(deps)
		l.lab.Deps[addr] = deps
	}
	if !allOK {
		return false
	}
	var coll cty.Value
	switch mode {
	case single:
		coll = insts[0].value
	case counted:
		coll = cty.EmptyTupleVal
		if len(tuple) > 0 {
			coll = cty.TupleVal(tuple)
		}
	case forEach:
		coll = cty.EmptyObjectVal
		if len(object) > 0 {
			coll = cty.ObjectVal(object)
		}
	}
	if l.resVals[n.rkind] == nil {
		l.resVals[n.rkind] = map[string]cty.Value{}
	}
	l.resVals[n.rkind][n.label] = coll
	return true
}

// refsOf returns the resource instance addresses the expressions of n
// reference, evaluating dynamic indexes like host.node[count.index] in ctx.
func (l *loader) refsOf(n *node, ctx *hcl.EvalContext) map[string]bool {
	set := map[string]bool{}
	all := func(res string) []string {
		var out []string
		for a := range l.instances {
			if a == res || strings.HasPrefix(a, res+"[") {
				out = append(out, a)
			}
		}
		return out
	}
	for _, ne := range n.exprs() {
		dyn := dynamicIndexes(ne.expr)
		for _, t := range ne.expr.Variables() {
			root := t.RootName()
			if len(t) < 2 {
				continue
			}
			attr, ok := t[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			if root == "local" {
				for r := range l.localRefs[attr.Name] {
					set[r] = true
				}
				continue
			}
			if !isResourceKind(root) {
				continue
			}
			res := root + "." + attr.Name
			var key cty.Value
			if len(t) >= 3 {
				switch s := t[2].(type) {
				case hcl.TraverseIndex:
					key = s.Key
				case hcl.TraverseAttr:
					key = cty.StringVal(s.Name)
				}
			} else if kx, ok := dyn[t.SourceRange().Start.Byte]; ok {
				if v, diags := kx.Value(ctx); !diags.HasErrors() {
					key = v
				}
			}
			if a := instanceAddr(res, key); a != "" && l.instances[a] != nil {
				set[a] = true
				continue
			}
			for _, a := range all(res) {
				set[a] = true
			}
		}
	}
	return set
}

// instanceAddr returns res[key] for a known number or string key, else "".
func instanceAddr(res string, key cty.Value) string {
	if key == cty.NilVal || !key.IsKnown() || key.IsNull() {
		return ""
	}
	switch key.Type() {
	case cty.Number:
		bf := key.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact {
			return res + "[" + strconv.FormatInt(i, 10) + "]"
		}
	case cty.String:
		return fmt.Sprintf("%s[%q]", res, key.AsString())
	}
	return ""
}

// dynamicIndexes maps the start offset of each resource reference that is
// indexed by a non-literal key (host.node[count.index]) to that key.
func dynamicIndexes(expr hcl.Expression) map[int]hcl.Expression {
	sx, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil
	}
	m := map[int]hcl.Expression{}
	_ = hclsyntax.VisitAll(sx, func(nd hclsyntax.Node) hcl.Diagnostics {
		ie, ok := nd.(*hclsyntax.IndexExpr)
		if !ok {
			return nil
		}
		st, ok := ie.Collection.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(st.Traversal) != 2 || !isResourceKind(st.Traversal.RootName()) {
			return nil
		}
		m[st.Traversal.SourceRange().Start.Byte] = ie.Key
		return nil
	})
	return m
}

func typeName(ty cty.Type) string {
	switch {
	case ty == cty.DynamicPseudoType:
		return "a value of unknown type"
	case ty.IsTupleType():
		return "a tuple"
	case ty.IsListType():
		return "a list"
	case ty.IsSetType():
		return "a set of " + ty.ElementType().FriendlyNameForConstraint()
	case ty.IsMapType():
		return "a map"
	case ty.IsObjectType():
		return "an object"
	}
	return "a " + ty.FriendlyName()
}

// toString converts v to a string or reports why not.
func (l *loader) toString(v cty.Value, name string, expr hcl.Expression) (string, bool) {
	if !v.IsWhollyKnown() {
		return "", false // an expression that did not parse: already reported
	}
	if v.IsNull() {
		l.errorf(expr.Range().Ptr(), "Invalid value", "The argument %q must be a string, not null.", name)
		return "", false
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		l.errorf(expr.Range().Ptr(), "Incorrect attribute value type",
			"Inappropriate value for argument %q: a string is required, got %s.", name, typeName(v.Type()))
		return "", false
	}
	return sv.AsString(), true
}
