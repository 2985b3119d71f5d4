// Command gotruth computes ground truth for codewalk's accuracy evaluation
// using the real Go type checker (go/build + go/parser + go/types, GOPATH
// mode, no golang.org/x/tools dependency).
//
// It emits one JSON document with
//   - implementations: (interface, type, pointer) pairs, union over the
//     configured GOOS values (default linux,darwin,windows; GOARCH amd64);
//   - calls: one record per *ast.CallExpr resolving to a *types.Func (plus
//     calls through variables of func type as kind "dynamic"), computed for
//     the first GOOS only (linux);
//   - packages / files: the in-scope package set and the files analysed for
//     calls, so the scorer can restrict codewalk's output to the same scope;
//   - stats.
//
// See eval/README.md for the exact definitions.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

type Impl struct {
	Interface string `json:"interface"`
	Type      string `json:"type"`
	Pointer   bool   `json:"pointer"`
}

type Call struct {
	Caller string `json:"caller"`
	Callee string `json:"callee"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
}

type ConfigStats struct {
	GOOS            string   `json:"goos"`
	GOARCH          string   `json:"goarch"`
	PackagesLoaded  int      `json:"packages_loaded"`
	PackagesSkipped int      `json:"packages_skipped"`
	PackagesNoFiles int      `json:"packages_no_files"`
	DepsLoaded      int      `json:"deps_loaded"`
	TypeErrorPkgs   int      `json:"packages_with_type_errors"`
	TypeErrors      int      `json:"type_errors"`
	CgoErrorFiles   int      `json:"cgo_files_with_type_errors"`
	TypeErrorList   []string `json:"type_error_packages"`
	Interfaces      int      `json:"interfaces"`
	Types           int      `json:"types"`
	ImplPairs       int      `json:"implementation_pairs"`
	Seconds         float64  `json:"seconds"`
}

type Stats struct {
	Mode             string         `json:"mode"`
	Root             string         `json:"root"`
	Prefixes         []string       `json:"prefixes,omitempty"`
	Configs          []ConfigStats  `json:"configs"`
	CallsConfig      string         `json:"calls_config"`
	Packages         int            `json:"packages"`
	Files            int            `json:"files"`
	ErrorFiles       int            `json:"files_in_packages_with_type_errors"`
	Interfaces       int            `json:"interfaces"`
	Types            int            `json:"types"`
	Implementations  int            `json:"implementations"`
	ImplsPointerOnly int            `json:"implementations_pointer_only"`
	CallsByKind      map[string]int `json:"calls_by_kind"`
	Skipped          []string       `json:"skipped_packages"`
	GoVersion        string         `json:"go_version"`
	Seconds          float64        `json:"seconds"`
}

type Output struct {
	Implementations []Impl   `json:"implementations"`
	Calls           []Call   `json:"calls"`
	Packages        []string `json:"packages"`
	Files           []string `json:"files"`
	ErrorFiles      []string `json:"error_files"`
	Stats           Stats    `json:"stats"`
}

// ---------------------------------------------------------------------------
// Loader: a types.ImporterFrom that type-checks everything from source,
// sharing one *types.Package per import path so that types.Implements works
// across packages.

type pkgEntry struct {
	pkg     *types.Package
	info    *types.Info
	files   []*ast.File
	bp      *build.Package
	err     error
	loading bool
	nerrs   int
	first   string
	// cgo files with type errors (FakeImportC); not counted in nerrs
	cgoErrFiles map[string]bool
}

type loader struct {
	ctxt    build.Context
	fset    *token.FileSet
	inScope func(path string) bool
	pkgs    map[string]*pkgEntry
	resolve map[[2]string]*build.Package
	sizes   types.Sizes
}

func newLoader(ctxt build.Context, inScope func(string) bool) *loader {
	return &loader{
		ctxt:    ctxt,
		fset:    token.NewFileSet(),
		inScope: inScope,
		pkgs:    map[string]*pkgEntry{},
		resolve: map[[2]string]*build.Package{},
		sizes:   types.SizesFor("gc", ctxt.GOARCH),
	}
}

func (l *loader) Import(path string) (*types.Package, error) {
	return l.ImportFrom(path, "", 0)
}

func (l *loader) ImportFrom(path, srcDir string, _ types.ImportMode) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	key := [2]string{path, srcDir}
	bp, ok := l.resolve[key]
	if !ok {
		var err error
		bp, err = l.ctxt.Import(path, srcDir, 0)
		if err != nil && (bp == nil || bp.ImportPath == "" || len(bp.GoFiles)+len(bp.CgoFiles) == 0) {
			l.resolve[key] = nil
			return nil, err
		}
		l.resolve[key] = bp
	}
	if bp == nil {
		return nil, fmt.Errorf("cannot import %q", path)
	}
	e := l.load(bp)
	if e.err != nil {
		return nil, e.err
	}
	return e.pkg, nil
}

// load type-checks the package described by bp (cached by import path).
func (l *loader) load(bp *build.Package) *pkgEntry {
	path := bp.ImportPath
	if e, ok := l.pkgs[path]; ok {
		if e.loading {
			return &pkgEntry{err: fmt.Errorf("import cycle via %s", path)}
		}
		return e
	}
	e := &pkgEntry{bp: bp, loading: true}
	l.pkgs[path] = e
	defer func() { e.loading = false }()

	inScope := l.inScope(path)
	names := append(append([]string{}, bp.GoFiles...), bp.CgoFiles...)
	sort.Strings(names)
	mode := parser.SkipObjectResolution
	cgoFiles := map[string]bool{}
	for _, n := range bp.CgoFiles {
		cgoFiles[filepath.Join(bp.Dir, n)] = true
	}
	for _, n := range names {
		fn := filepath.Join(bp.Dir, n)
		f, err := parser.ParseFile(l.fset, fn, nil, mode)
		if f == nil {
			continue
		}
		_ = err // partial ASTs are fine
		e.files = append(e.files, f)
	}
	if len(e.files) == 0 {
		e.err = fmt.Errorf("no parsable files in %s", path)
		return e
	}
	conf := types.Config{
		Importer:         l,
		FakeImportC:      true,
		IgnoreFuncBodies: !inScope,
		Sizes:            l.sizes,
		Error: func(err error) {
			// Errors located in cgo files come from FakeImportC (C.xxx has
			// invalid type); they only affect that file. Any other error
			// (typically a missing import) taints the whole package.
			if te, ok := err.(types.Error); ok {
				if fn := te.Fset.Position(te.Pos).Filename; cgoFiles[fn] {
					if e.cgoErrFiles == nil {
						e.cgoErrFiles = map[string]bool{}
					}
					e.cgoErrFiles[fn] = true
					return
				}
			}
			if e.nerrs == 0 {
				e.first = err.Error()
			}
			e.nerrs++
		},
	}
	if inScope {
		e.info = &types.Info{
			Defs: map[*ast.Ident]types.Object{},
			Uses: map[*ast.Ident]types.Object{},
		}
	}
	pkg, _ := conf.Check(path, l.fset, e.files, e.info)
	if pkg == nil {
		e.err = fmt.Errorf("type-check of %s produced no package", path)
		return e
	}
	e.pkg = pkg
	if !inScope {
		e.files = nil // free ASTs of dependencies
	}
	return e
}

// ---------------------------------------------------------------------------
// Naming helpers.

// stripTypeParams removes every bracketed segment: "(*p.Pointer[T]).Load" ->
// "(*p.Pointer).Load".
func stripTypeParams(s string) string {
	if !strings.Contains(s, "[") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']':
			if depth > 0 {
				depth--
			}
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func funcName(f *types.Func) string {
	return stripTypeParams(f.Origin().FullName())
}

func typeName(obj *types.TypeName) string {
	if obj.Pkg() == nil {
		return obj.Name()
	}
	return obj.Pkg().Path() + "." + obj.Name()
}

// ---------------------------------------------------------------------------
// Scope discovery.

func discover(ctxt *build.Context, root string, prefixes []string, mode string, withCmd bool) []string {
	var starts []string
	if mode == "std" {
		starts = []string{root}
	} else {
		for _, p := range prefixes {
			starts = append(starts, filepath.Join(root, filepath.FromSlash(p)))
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, start := range starts {
		filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			base := d.Name()
			if p != start && (base == "testdata" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return filepath.SkipDir
			}
			rel, err := filepath.Rel(root, p)
			if err != nil || rel == "." {
				return nil
			}
			rel = filepath.ToSlash(rel)
			if mode == "std" {
				if rel == "builtin" {
					return nil // documentation-only pseudo package
				}
				if !withCmd && (rel == "cmd" || strings.HasPrefix(rel, "cmd/")) {
					return filepath.SkipDir
				}
			}
			if hasGo(p) && !seen[rel] {
				seen[rel] = true
				out = append(out, rel)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func hasGo(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// One configuration (GOOS/GOARCH) run.

type configResult struct {
	stats    ConfigStats
	impls    map[Impl]bool
	ifaces   map[string]bool
	types    map[string]bool
	pkgs     []string
	skipped  []string
	calls    []Call
	files    []string
	errFiles []string
	numFiles int
}

func runConfig(base build.Context, goos, goarch, root string, paths []string, inScope func(string) bool, doCalls bool) *configResult {
	t0 := time.Now()
	ctxt := base
	ctxt.GOOS = goos
	ctxt.GOARCH = goarch
	ctxt.CgoEnabled = true
	l := newLoader(ctxt, inScope)
	res := &configResult{impls: map[Impl]bool{}, ifaces: map[string]bool{}, types: map[string]bool{}}
	res.stats.GOOS, res.stats.GOARCH = goos, goarch

	var loaded []*pkgEntry
	for _, rel := range paths {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		bp, err := ctxt.ImportDir(dir, 0)
		if err != nil {
			var nogo *build.NoGoError
			if errors.As(err, &nogo) {
				res.stats.PackagesNoFiles++ // nothing to build for this GOOS
				continue
			}
			if bp == nil || len(bp.GoFiles)+len(bp.CgoFiles) == 0 {
				res.stats.PackagesSkipped++
				res.skipped = append(res.skipped, goos+":"+rel+": "+oneLine(err.Error()))
				continue
			}
		}
		if err == nil && len(bp.GoFiles)+len(bp.CgoFiles) == 0 {
			res.stats.PackagesNoFiles++ // e.g. only _test.go files for this GOOS
			continue
		}
		// In std mode ImportDir already yields the std import path; in
		// GOPATH mode it yields the GOPATH-relative path. Either way make
		// sure it matches the directory-derived path.
		if bp.ImportPath == "" || bp.ImportPath == "." || strings.HasPrefix(bp.ImportPath, "_") {
			bp.ImportPath = rel
		}
		if !inScope(bp.ImportPath) {
			continue
		}
		e := l.load(bp)
		if e.err != nil || e.pkg == nil {
			res.stats.PackagesSkipped++
			msg := "load failed"
			if e.err != nil {
				msg = e.err.Error()
			}
			res.skipped = append(res.skipped, goos+":"+rel+": "+oneLine(msg))
			continue
		}
		loaded = append(loaded, e)
	}
	res.stats.PackagesLoaded = len(loaded)
	res.stats.DepsLoaded = len(l.pkgs) - len(loaded)
	for _, e := range loaded {
		res.pkgs = append(res.pkgs, e.pkg.Path())
		if len(e.cgoErrFiles) > 0 {
			res.stats.CgoErrorFiles += len(e.cgoErrFiles)
		}
		if e.nerrs > 0 {
			res.stats.TypeErrorPkgs++
			res.stats.TypeErrors += e.nerrs
			res.stats.TypeErrorList = append(res.stats.TypeErrorList, fmt.Sprintf("%s (%d errors; first: %s)", e.pkg.Path(), e.nerrs, oneLine(e.first)))
		}
	}

	// --- implementations
	type ifaceRec struct {
		name  string
		iface *types.Interface
		key   string // rarest method Id, filled later
	}
	type typeRec struct {
		name string
		t    types.Type
	}
	var ifaces []ifaceRec
	var typs []typeRec
	byMethod := map[string][]int{} // method Id -> indices into typs (method set of *T)
	for _, e := range loaded {
		sc := e.pkg.Scope()
		for _, n := range sc.Names() {
			tn, ok := sc.Lookup(n).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok || named.TypeParams().Len() > 0 {
				continue
			}
			if it, ok := named.Underlying().(*types.Interface); ok {
				if it.NumMethods() >= 1 && it.IsMethodSet() {
					ifaces = append(ifaces, ifaceRec{name: typeName(tn), iface: it})
				}
				continue
			}
			idx := len(typs)
			typs = append(typs, typeRec{name: typeName(tn), t: named})
			ms := types.NewMethodSet(types.NewPointer(named))
			for i := 0; i < ms.Len(); i++ {
				id := ms.At(i).Obj().Id()
				byMethod[id] = append(byMethod[id], idx)
			}
		}
	}
	res.stats.Interfaces = len(ifaces)
	res.stats.Types = len(typs)
	for _, ir := range ifaces {
		res.ifaces[ir.name] = true
	}
	for _, tr := range typs {
		res.types[tr.name] = true
	}
	for _, ir := range ifaces {
		// candidate types: those whose pointer method set has the interface's rarest method
		var cands []int
		first := true
		for i := 0; i < ir.iface.NumMethods(); i++ {
			c := byMethod[ir.iface.Method(i).Id()]
			if first || len(c) < len(cands) {
				cands, first = c, false
			}
		}
		for _, ti := range cands {
			tr := typs[ti]
			if types.Implements(tr.t, ir.iface) {
				res.impls[Impl{ir.name, tr.name, false}] = true
			} else if types.Implements(types.NewPointer(tr.t), ir.iface) {
				res.impls[Impl{ir.name, tr.name, true}] = true
			}
		}
	}
	res.stats.ImplPairs = len(res.impls)

	// --- calls
	if doCalls {
		for _, e := range loaded {
			for _, f := range e.files {
				fn := l.fset.File(f.Pos()).Name()
				res.files = append(res.files, fn)
				if e.nerrs > 0 || e.cgoErrFiles[fn] {
					res.errFiles = append(res.errFiles, fn)
				}
				res.calls = append(res.calls, collectCalls(l.fset, e.pkg, e.info, f)...)
			}
		}
		res.numFiles = len(res.files)
	}
	res.stats.Seconds = time.Since(t0).Seconds()
	return res
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// ---------------------------------------------------------------------------
// Calls.

func collectCalls(fset *token.FileSet, pkg *types.Package, info *types.Info, f *ast.File) []Call {
	var out []Call
	initName := pkg.Path() + ".init"
	visit := func(caller string, root ast.Node) {
		ast.Inspect(root, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			callee, kind, ok := resolveCallee(info, call.Fun)
			if ok {
				pos := fset.Position(call.Lparen)
				out = append(out, Call{Caller: caller, Callee: callee, File: pos.Filename, Line: pos.Line, Kind: kind})
			}
			return true
		})
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Body == nil {
				continue
			}
			caller := ""
			if fo, ok := info.Defs[d.Name].(*types.Func); ok {
				caller = funcName(fo)
			}
			if d.Recv == nil && d.Name.Name == "init" {
				caller = initName
			}
			if caller == "" {
				caller = pkg.Path() + "." + d.Name.Name
			}
			visit(caller, d.Body)
		case *ast.GenDecl:
			if d.Tok != token.VAR {
				continue
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for _, v := range vs.Values {
					visit(initName, v)
				}
			}
		}
	}
	return out
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

func identOf(e ast.Expr) *ast.Ident {
	switch e := e.(type) {
	case *ast.Ident:
		return e
	case *ast.SelectorExpr:
		return e.Sel
	}
	return nil
}

func resolveCallee(info *types.Info, fun ast.Expr) (string, string, bool) {
	fun = unparen(fun)
	// generic instantiation f[T](...), pkg.F[T1, T2](...), x.M[T]() is not legal but harmless
	switch ix := fun.(type) {
	case *ast.IndexExpr:
		if id := identOf(unparen(ix.X)); id != nil {
			if _, ok := info.Uses[id].(*types.Func); ok {
				fun = unparen(ix.X)
			}
		}
	case *ast.IndexListExpr:
		if id := identOf(unparen(ix.X)); id != nil {
			if _, ok := info.Uses[id].(*types.Func); ok {
				fun = unparen(ix.X)
			}
		}
	}
	id := identOf(fun)
	if id == nil {
		return "", "", false
	}
	switch obj := info.Uses[id].(type) {
	case *types.Func:
		kind := "static"
		if sig, ok := obj.Type().(*types.Signature); ok && sig.Recv() != nil {
			rt := sig.Recv().Type()
			if p, ok := rt.(*types.Pointer); ok {
				rt = p.Elem()
			}
			if _, ok := rt.Underlying().(*types.Interface); ok {
				kind = "interface"
			}
		}
		return funcName(obj), kind, true
	case *types.Var:
		if _, ok := obj.Type().Underlying().(*types.Signature); ok {
			return "", "dynamic", true
		}
	}
	return "", "", false
}

// ---------------------------------------------------------------------------

func main() {
	mode := flag.String("mode", "std", "std | gopath")
	root := flag.String("root", "", "source root (std: GOROOT/src; gopath: GOPATH/src)")
	prefix := flag.String("prefix", "", "comma-separated import path prefixes in scope (gopath mode)")
	out := flag.String("o", "", "output JSON file (default stdout)")
	goosList := flag.String("goos", "linux,darwin,windows", "GOOS values; implementations are the union, calls use the first")
	goarch := flag.String("goarch", "amd64", "GOARCH")
	withCmd := flag.Bool("cmd", true, "std mode: include cmd/...")
	verbose := flag.Bool("v", false, "print skipped packages to stderr")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "gotruth: -root is required")
		os.Exit(2)
	}
	os.Setenv("GO111MODULE", "off")
	t0 := time.Now()
	absRoot, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	base := build.Default
	var prefixes []string
	inScope := func(string) bool { return true }
	switch *mode {
	case "std":
		base.GOROOT = filepath.Dir(absRoot)
		base.GOPATH = ""
		stdSet := map[string]bool{}
		ctxt := base
		for _, p := range discover(&ctxt, absRoot, nil, "std", *withCmd) {
			stdSet[p] = true
		}
		inScope = func(p string) bool { return stdSet[p] }
	case "gopath":
		base.GOPATH = filepath.Dir(absRoot)
		for _, p := range strings.Split(*prefix, ",") {
			if p = strings.TrimSpace(p); p != "" {
				prefixes = append(prefixes, strings.TrimSuffix(p, "/"))
			}
		}
		if len(prefixes) == 0 {
			fmt.Fprintln(os.Stderr, "gotruth: -prefix is required in gopath mode")
			os.Exit(2)
		}
		inScope = func(p string) bool {
			for _, pre := range prefixes {
				if p == pre || strings.HasPrefix(p, pre+"/") {
					return true
				}
			}
			return false
		}
	default:
		fmt.Fprintln(os.Stderr, "gotruth: -mode must be std or gopath")
		os.Exit(2)
	}
	paths := discover(&base, absRoot, prefixes, *mode, *withCmd)
	fmt.Fprintf(os.Stderr, "gotruth: %d candidate package dirs under %s\n", len(paths), absRoot)

	impls := map[Impl]bool{}
	ifaces := map[string]bool{}
	typs := map[string]bool{}
	pkgSet := map[string]bool{}
	var calls []Call
	var files []string
	var skipped []string
	var o Output
	stats := Stats{Mode: *mode, Root: absRoot, Prefixes: prefixes, CallsByKind: map[string]int{}, GoVersion: runtime.Version()}
	for i, goos := range strings.Split(*goosList, ",") {
		goos = strings.TrimSpace(goos)
		if goos == "" {
			continue
		}
		r := runConfig(base, goos, *goarch, absRoot, paths, inScope, i == 0)
		fmt.Fprintf(os.Stderr, "gotruth: %s/%s: %d pkgs loaded (%d deps), %d skipped, %d no files, %d with type errors; %d ifaces, %d types, %d impl pairs; %.1fs\n",
			goos, *goarch, r.stats.PackagesLoaded, r.stats.DepsLoaded, r.stats.PackagesSkipped, r.stats.PackagesNoFiles, r.stats.TypeErrorPkgs,
			r.stats.Interfaces, r.stats.Types, r.stats.ImplPairs, r.stats.Seconds)
		stats.Configs = append(stats.Configs, r.stats)
		for k := range r.impls {
			impls[k] = true
		}
		for k := range r.ifaces {
			ifaces[k] = true
		}
		for k := range r.types {
			typs[k] = true
		}
		for _, p := range r.pkgs {
			pkgSet[p] = true
		}
		skipped = append(skipped, r.skipped...)
		if i == 0 {
			calls, files = r.calls, r.files
			o.ErrorFiles = r.errFiles
			stats.CallsConfig = goos + "/" + *goarch
		}
		runtime.GC()
	}

	o.Implementations, o.Calls, o.Files = make([]Impl, 0, len(impls)), calls, files
	if o.Calls == nil {
		o.Calls = []Call{}
	}
	for k := range impls {
		o.Implementations = append(o.Implementations, k)
		if k.Pointer {
			stats.ImplsPointerOnly++
		}
	}
	sort.Slice(o.Implementations, func(i, j int) bool {
		a, b := o.Implementations[i], o.Implementations[j]
		if a.Interface != b.Interface {
			return a.Interface < b.Interface
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return !a.Pointer && b.Pointer
	})
	// A pair can be pointer=false in one config and pointer=true in another
	// (method sets differ per GOOS); keep the value-receiver variant only.
	dedup := o.Implementations[:0]
	for i, im := range o.Implementations {
		if i > 0 && dedup[len(dedup)-1].Interface == im.Interface && dedup[len(dedup)-1].Type == im.Type {
			if im.Pointer {
				stats.ImplsPointerOnly--
			}
			continue
		}
		dedup = append(dedup, im)
	}
	o.Implementations = dedup
	sort.Slice(o.Calls, func(i, j int) bool {
		a, b := o.Calls[i], o.Calls[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Callee != b.Callee {
			return a.Callee < b.Callee
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Caller < b.Caller
	})
	sort.Strings(o.Files)
	sort.Strings(o.ErrorFiles)
	if o.ErrorFiles == nil {
		o.ErrorFiles = []string{}
	}
	for p := range pkgSet {
		o.Packages = append(o.Packages, p)
	}
	sort.Strings(o.Packages)
	sort.Strings(skipped)
	if skipped == nil {
		skipped = []string{}
	}
	for _, c := range o.Calls {
		stats.CallsByKind[c.Kind]++
	}
	stats.Packages = len(o.Packages)
	stats.Files = len(o.Files)
	stats.ErrorFiles = len(o.ErrorFiles)
	stats.Interfaces = len(ifaces)
	stats.Types = len(typs)
	stats.Implementations = len(o.Implementations)
	stats.Skipped = skipped
	stats.Seconds = time.Since(t0).Seconds()
	o.Stats = stats

	fmt.Fprintf(os.Stderr, "gotruth: skipped %d package loads (sum over configs)\n", len(skipped))
	if *verbose {
		for _, s := range skipped {
			fmt.Fprintln(os.Stderr, "  skipped", s)
		}
	}
	fmt.Fprintf(os.Stderr, "gotruth: %d packages, %d files, %d interfaces, %d types, %d implementations (%d pointer-only), calls %v, %.1fs\n",
		stats.Packages, stats.Files, stats.Interfaces, stats.Types, stats.Implementations, stats.ImplsPointerOnly, stats.CallsByKind, stats.Seconds)

	w := os.Stdout
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tmp := *out + ".tmp"
		fh, err := os.Create(tmp)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := writeJSON(fh, &o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fh.Close()
		if err := os.Rename(tmp, *out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := writeJSON(w, &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func writeJSON(w *os.File, o *Output) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(o)
}
