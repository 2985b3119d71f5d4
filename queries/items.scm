; Top-level items of a Go source file. Each pattern is anchored on a direct child of
; source_file, so declarations inside function bodies are never captured here.
; Capture names are checked when the query is compiled (see src/syntax/mod.rs).

(source_file (package_clause (package_identifier) @package))

(source_file (import_declaration (import_spec) @import))
(source_file (import_declaration (import_spec_list (import_spec) @import)))

(source_file (function_declaration) @func)
(source_file (method_declaration) @method)

(source_file (type_declaration (type_spec) @type))
(source_file (type_declaration (type_alias) @alias))

(source_file (var_declaration (var_spec) @var))
(source_file (var_declaration (var_spec_list (var_spec) @var)))

(source_file (const_declaration (const_spec) @const))
