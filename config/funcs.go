package config

import (
	"fmt"
	"maps"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"github.com/zclconf/go-cty/cty/gocty"
)

// functions returns the functions available to lab expressions. file() reads
// paths relative to dir.
func functions(dir string) map[string]function.Function {
	fs := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"ceil":            stdlib.CeilFunc,
		"floor":           stdlib.FloorFunc,
		"log":             stdlib.LogFunc,
		"max":             stdlib.MaxFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"signum":          stdlib.SignumFunc,
		"upper":           stdlib.UpperFunc,
		"lower":           stdlib.LowerFunc,
		"title":           stdlib.TitleFunc,
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"format":          stdlib.FormatFunc,
		"formatlist":      stdlib.FormatListFunc,
		"join":            stdlib.JoinFunc,
		"split":           stdlib.SplitFunc,
		"replace":         stdlib.ReplaceFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"regex_replace":   stdlib.RegexReplaceFunc,
		"substr":          stdlib.SubstrFunc,
		"strrev":          stdlib.ReverseFunc,
		"chomp":           stdlib.ChompFunc,
		"indent":          stdlib.IndentFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"keys":            stdlib.KeysFunc,
		"values":          stdlib.ValuesFunc,
		"length":          lengthFunc,
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setunion":        stdlib.SetUnionFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"tostring":        stdlib.MakeToFunc(cty.String),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"cidrhost":        cidrHostFunc,
		"cidrsubnet":      cidrSubnetFunc,
		"cidrnetmask":     cidrNetmaskFunc,
		"file":            makeFileFunc(dir),
	}
	// A template sees every function but templatefile itself (a template
	// rendering templates could recurse without end).
	fs["templatefile"] = makeTemplateFileFunc(dir, maps.Clone(fs))
	return fs
}

// makeTemplateFileFunc renders a file as an HCL template ("${name}",
// "%{ for x in xs }...%{ endfor }") with the variables of a map or object,
// as Terraform's templatefile does.
func makeTemplateFileFunc(dir string, funcs map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders a file, relative to the lab directory, as a template with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot read %s: %v", name, err)
			}
			vars := args[1]
			if vars.IsNull() || !(vars.Type().IsObjectType() || vars.Type().IsMapType()) {
				return cty.NilVal, fmt.Errorf("vars must be a map or an object of the template's variables")
			}
			expr, diags := hclsyntax.ParseTemplate(b, name, hcl.Pos{Line: 1, Column: 1, Byte: 0})
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("%s", diags.Error())
			}
			ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: funcs}
			for it := vars.ElementIterator(); it.Next(); {
				k, v := it.Element()
				ctx.Variables[k.AsString()] = v
			}
			for _, t := range expr.Variables() {
				if _, ok := ctx.Variables[t.RootName()]; !ok {
					r := t.SourceRange()
					return cty.NilVal, fmt.Errorf("%s:%d,%d: the template uses %q, which vars does not set", name, r.Start.Line, r.Start.Column, t.RootName())
				}
			}
			v, diags := expr.Value(ctx)
			if diags.HasErrors() {
				return cty.NilVal, fmt.Errorf("%s", diags.Error())
			}
			v, err = convert.Convert(v, cty.String)
			if err != nil || v.IsNull() {
				return cty.NilVal, fmt.Errorf("%s does not render to a string", name)
			}
			return v, nil
		},
	})
}

// lengthFunc is stdlib's length extended to strings, as Terraform users expect.
var lengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements of a collection or characters of a string.",
	Params: []function.Parameter{{
		Name:             "value",
		Type:             cty.DynamicPseudoType,
		AllowDynamicType: true,
		AllowUnknown:     true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() {
			return cty.Number, nil
		}
		return cty.NilType, fmt.Errorf("argument must be a string, a collection or a structural value")
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch {
		case !v.IsKnown():
			return cty.UnknownVal(cty.Number), nil
		case v.IsNull():
			return cty.NilVal, fmt.Errorf("argument must not be null")
		case v.Type() == cty.String:
			return stdlib.Strlen(v)
		case v.Type().IsObjectType():
			return cty.NumberIntVal(int64(len(v.Type().AttributeTypes()))), nil
		}
		return v.Length(), nil
	},
})

func makeFileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file, relative to the lab directory, as UTF-8 text.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, fmt.Errorf("cannot read %s: %v", args[0].AsString(), err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("%s is not valid UTF-8", args[0].AsString())
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func parseCIDRArg(v cty.Value) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v.AsString())
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", v.AsString())
	}
	return p.Masked(), nil
}

func intArg(v cty.Value, what string) (int64, error) {
	var n int64
	if err := gocty.FromCtyValue(v, &n); err != nil {
		return 0, fmt.Errorf("%s must be a whole number: %v", what, err)
	}
	return n, nil
}

func addrToInt(a netip.Addr) *big.Int {
	return new(big.Int).SetBytes(a.AsSlice())
}

func intToAddr(n *big.Int, is4 bool) netip.Addr {
	size := 16
	if is4 {
		size = 4
	}
	b := make([]byte, size)
	n.FillBytes(b)
	a, _ := netip.AddrFromSlice(b)
	return a
}

var cidrHostFunc = function.New(&function.Spec{
	Description: "Returns the IP address of host number hostnum within prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "hostnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDRArg(args[0])
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		num, err := intArg(args[1], "hostnum")
		if err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		hostBits := uint(p.Addr().BitLen() - p.Bits())
		size := new(big.Int).Lsh(big.NewInt(1), hostBits)
		n := big.NewInt(num)
		if num < 0 {
			n.Add(n, size)
		}
		if n.Sign() < 0 || n.Cmp(size) >= 0 {
			return cty.NilVal, function.NewArgErrorf(1, "prefix %s has no host number %d", p, num)
		}
		n.Add(n, addrToInt(p.Addr()))
		return cty.StringVal(intToAddr(n, p.Addr().Is4()).String()), nil
	},
})

var cidrSubnetFunc = function.New(&function.Spec{
	Description: "Returns subnet number netnum of prefix extended by newbits bits.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "newbits", Type: cty.Number},
		{Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDRArg(args[0])
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		newbits, err := intArg(args[1], "newbits")
		if err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		netnum, err := intArg(args[2], "netnum")
		if err != nil {
			return cty.NilVal, function.NewArgError(2, err)
		}
		newLen := int64(p.Bits()) + newbits
		if newbits < 0 || newLen > int64(p.Addr().BitLen()) {
			return cty.NilVal, function.NewArgErrorf(1, "cannot extend prefix %s by %d bits", p, newbits)
		}
		if netnum < 0 || big.NewInt(netnum).Cmp(new(big.Int).Lsh(big.NewInt(1), uint(newbits))) >= 0 {
			return cty.NilVal, function.NewArgErrorf(2, "prefix %s extended by %d bits has no subnet number %d", p, newbits, netnum)
		}
		n := new(big.Int).Lsh(big.NewInt(netnum), uint(int64(p.Addr().BitLen())-newLen))
		n.Add(n, addrToInt(p.Addr()))
		sub := netip.PrefixFrom(intToAddr(n, p.Addr().Is4()), int(newLen))
		return cty.StringVal(sub.String()), nil
	},
})

var cidrNetmaskFunc = function.New(&function.Spec{
	Description: "Returns the dotted netmask of an IPv4 prefix.",
	Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDRArg(args[0])
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		if !p.Addr().Is4() {
			return cty.NilVal, function.NewArgErrorf(0, "cidrnetmask needs an IPv4 prefix, got %s", p)
		}
		mask := ^uint32(0)
		if p.Bits() < 32 {
			mask = ^(^uint32(0) >> uint(p.Bits()))
		}
		a := netip.AddrFrom4([4]byte{byte(mask >> 24), byte(mask >> 16), byte(mask >> 8), byte(mask)})
		return cty.StringVal(a.String()), nil
	},
})
