"""Is this the student's own code? Decided from the submitted notebook's source.

``check_own_work(resnet50)`` in a test cell asks whether ``resnet50`` builds its network
itself or hands back a ready-made one (``keras.applications``, ``course_utils.zoo``). Asked
inside the student's kernel, the question is answered by code that the submission can
replace. Here it is answered in the grading process, from the notebook's cells as text
(:class:`Submission`): their syntax trees, after IPython's own rewriting of magics.

What a graded function *reaches* is followed: its own code, nested functions, decorators,
default values and annotations; every global name it uses, through every binding of that
name anywhere in the notebook (a ``def``, an assignment, an import, a ``for`` or ``with``
target, a ``global`` statement in some function, an item or attribute stored into it, a
method such as ``append`` or ``update`` called on it); what those bindings use in turn,
transitively. A name bound several times counts with all its bindings: the grader cannot
tell which one the kernel holds. Reached code is not the student's own work when it

- imports, or reaches an attribute named after, a forbidden module (``applications``,
  ``zoo``, or what the test cell forbids), or imports a module outside :data:`ALLOWED`;
- imports by computed name (``importlib``, ``__import__``), runs text as code (``exec``,
  ``eval``, ``compile``), looks names up by text (``globals()``, ``vars()``, ``locals()``,
  ``sys.modules``, ``getattr`` with a computed name, ``__dict__``, frames...), or rebuilds
  a network from a saved description (``model_from_json``, ``from_config``,
  ``deserialize``, ``load_model``, Keras's registries);
- uses a name that no cell defines (IPython's output history ``_``, ``Out``; a name made
  by ``exec``) or that only the assignment's test cells define (their reference networks).

And some code anywhere in the notebook makes every answer uncertain, so every own-work
check fails (:meth:`Submission.interference`): text run as code that the grader cannot
read (``exec`` of a computed string, magics other than :data:`SAFE_LINE_MAGICS` and
:data:`SAFE_CELL_MAGICS`, IPython's machinery through ``get_ipython()``), changes to the
modules a builder may use (``keras.Model = ...``, ``sys.modules[...] = ...``,
``sys.path.insert``, ``setattr(keras, ...)``), to a function's code or defaults
(``f.__code__ = ...``), or to the namespace by computed names (``globals()[...] = ...``).

Everything here is plain ``ast``: nothing of the submission is imported or run.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

FORBIDDEN = ("zoo", "applications")

#: Modules (and packages, with what is below them) that a graded function may use.
ALLOWED = ("keras", "tensorflow", "numpy", "math", "functools", "itertools", "collections",
           "typing", "dataclasses", "enum", "copy", "warnings", "numbers", "string", "abc",
           "sys", "__future__", "re", "random", "time", "contextlib", "textwrap",
           "course_utils.layers")

#: Builtins that run text as code or reach names by text.
DYNAMIC_BUILTINS = {"exec", "eval", "compile", "__import__", "globals", "vars", "locals",
                    "breakpoint", "get_ipython", "__builtins__", "__loader__", "__spec__",
                    "setattr", "delattr"}
#: Attributes that lead to namespaces, code objects, frames or the import system.
DYNAMIC_ATTRIBUTES = {
    "__dict__", "__globals__", "__builtins__", "__code__", "__closure__", "__defaults__",
    "__kwdefaults__", "__subclasses__", "__getattribute__", "__import__", "__loader__",
    "__spec__", "__reduce__", "__reduce_ex__", "f_globals", "f_locals", "f_builtins",
    "f_back", "gi_frame", "cr_frame", "ag_frame", "tb_frame", "_getframe", "currentframe",
    "import_module", "reload", "run_cell", "user_ns", "user_global_ns", "attrgetter",
    "methodcaller", "FunctionType", "CodeType", "system", "popen", "settrace", "setprofile",
}
#: Attributes of ``sys`` that reach modules or the import system.
SYS_ATTRIBUTES = {"modules", "path", "meta_path", "path_hooks", "path_importer_cache"}
#: Ways to rebuild a network from a description, or to fetch an object by its name.
REBUILDERS = {
    "model_from_json", "model_from_config", "model_from_yaml", "from_config", "from_json",
    "deserialize", "deserialize_keras_object", "load_model", "TFSMLayer", "saved_model",
    "get_symbol_from_name", "api_export", "REGISTERED_NAMES_TO_OBJS",
    "REGISTERED_OBJS_TO_NAMES", "get_registered_object", "get_custom_objects",
    "custom_object_scope", "CustomObjectScope",
}
#: Method names that change the object they are called on.
MUTATORS = {"append", "extend", "insert", "update", "setdefault", "add", "__setitem__",
            "__setattr__", "__delitem__", "__delattr__", "pop", "popitem", "clear",
            "remove", "discard", "register"}
#: Dunder attributes whose assignment changes what a function or class does.
REWIRING = {"__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
            "__dict__", "__class__", "__call__", "__wrapped__", "__getattr__",
            "__getattribute__", "__new__", "__init__", "__bases__", "__builtins__"}
#: Magics that run nothing the grader cannot read (``time`` and ``timeit`` run their
#: argument, ``capture`` its body: those are read as code too).
SAFE_LINE_MAGICS = {"matplotlib", "pip", "conda", "time", "timeit", "who", "whos", "pwd",
                    "precision"}
SAFE_CELL_MAGICS = {"time", "timeit", "capture"}
#: Names IPython puts in a notebook's namespace that are harmless to use.
SAFE_NAMES = {"display", "__name__", "__doc__"}

_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_") or n in (
    "__build_class__", "__debug__"))
_HISTORY = re.compile(r"^(_+|_\d+|_i+\d*|_oh|_ih|_dh|_sh|In|Out|exit|quit)$")

#: Modules whose change changes every function (and ``builtins``, whose import hook does).
_EVERYWHERE = {"keras", "tensorflow", "sys", "importlib", "builtins"}

_HINT = ("build the network from keras.layers yourself; the ready-made ones are for "
         "checking, not for handing in")


@dataclass(frozen=True)
class Finding:
    """One reason why a function is not (provably) the student's own work."""

    what: str        # what was found, e.g. "keras.applications (a ready-made network)"
    why: str         # why that is not allowed
    cell: int | None = None   # the notebook's code cell, counted from 1
    line: int | None = None
    quote: str | None = None  # the line, from the student's cells only

    def describe(self) -> str:
        where = ""
        if self.cell is not None:
            where = f"code cell {self.cell}" + (f", line {self.line}" if self.line else "")
            where += f" (`{self.quote}`)" if self.quote else " (one of the assignment's own cells)"
            where += ": "
        return f"{where}{self.what}: {self.why}"


@dataclass
class _Cell:
    number: int          # 1-based among code cells
    instructor: bool     # a test or locked cell, restored by nbgrader: not quoted
    lines: list[str]
    tree: ast.Module


@dataclass
class _Binding:
    name: str
    kind: str            # "def", "value", "import", "scope"
    node: ast.AST | None
    cell: _Cell
    module: str | None = None  # for imports: the dotted name it binds
    line: int | None = None


@dataclass
class Submission:
    """A notebook's code cells, parsed once; ``findings(name)`` says what is wrong."""

    cells: list[_Cell] = field(default_factory=list)
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    stars: list[_Binding] = field(default_factory=list)
    interference: list[Finding] = field(default_factory=list)
    patched: dict[str, Finding] = field(default_factory=dict)  # module or builtin -> where
    changes: list = field(default_factory=list)  # (cell, statement, what): keras etc. changed
    _cache: dict = field(default_factory=dict)

    # -- reading the notebook ------------------------------------------------------------

    @classmethod
    def from_cells(cls, cells) -> Submission:
        """``cells``: ``(source, instructor)`` for each code cell, in order."""
        self = cls()
        for number, (source, instructor) in enumerate(cells, start=1):
            self._add(source, number, instructor, depth=0)
        for cell in self.cells:
            self._bind_module(cell.tree.body, cell)
            self._bind_functions(cell)
        for cell in self.cells:
            self._find_interference(cell)
        return self

    @classmethod
    def from_notebook(cls, nb) -> Submission:
        """From an nbformat notebook: test cells and locked cells are the instructor's."""
        cells = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.get("metadata", {}).get("nbgrader", {})
            instructor = bool((meta.get("grade") or meta.get("locked"))
                              and not meta.get("solution"))
            cells.append((cell.source, instructor))
        return cls.from_cells(cells)

    def _add(self, source: str, number: int, instructor: bool, depth: int) -> None:
        code = _transform(source)
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return  # the kernel could not run it either
        cell = _Cell(number, instructor, source.splitlines(), tree)
        self.cells.append(cell)
        if depth < 5:  # code held as constant text that is run: read it as more cells
            for text in _constant_code(tree):
                self._add(text, number, instructor, depth + 1)

    def _binding(self, name, kind, node, cell, module=None, line=None):
        line = line or getattr(node, "lineno", None)
        known = self.bindings.setdefault(name, [])
        if node is not None and any(b.node is node and b.kind == kind for b in known):
            return
        known.append(
            _Binding(name, kind, node, cell, module, line))

    def _bind_target(self, target, value, cell, statement):
        if isinstance(target, ast.Name):
            self._binding(target.id, "value", value, cell, line=statement.lineno)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._bind_target(item, value, cell, statement)
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, value, cell, statement)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root_name(target)
            if root:  # registry["b"] = ..., obj.attr = ...: the object now holds it
                self._binding(root, "value", statement, cell)

    def _bind_module(self, statements, cell) -> None:
        """Bindings made by module-level code (compound statements included)."""
        for stmt in statements:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._binding(stmt.name, "def", stmt, cell)
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for name, module in _imported(stmt):
                    if name == "*":
                        self.stars.append(_Binding("*", "import", stmt, cell, module,
                                                   stmt.lineno))
                    else:
                        self._binding(name, "import", stmt, cell, module)
                continue
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    self._bind_target(target, stmt.value, cell, stmt)
            elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
                self._bind_target(stmt.target, stmt.value, cell, stmt)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                self._bind_target(stmt.target, stmt.iter, cell, stmt)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        self._bind_target(item.optional_vars, item.context_expr, cell, stmt)
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    for node in ast.walk(case.pattern):
                        for name in (getattr(node, "name", None), getattr(node, "rest", None)):
                            if isinstance(name, str):
                                self._binding(name, "value", stmt.subject, cell)
            for node in _walk_here(stmt):
                if isinstance(node, ast.NamedExpr):
                    self._binding(node.target.id, "value", node.value, cell)
                elif isinstance(node, ast.ExceptHandler) and node.name:
                    self._binding(node.name, "value", node.type, cell)
                elif isinstance(node, ast.Call) and _mutated_root(node):
                    self._binding(_mutated_root(node), "value", node, cell)
            for block in _blocks(stmt):
                self._bind_module(block, cell)

    def _bind_functions(self, cell) -> None:
        """Module names that a function changes: ``global`` ones, and objects it stores
        into or calls a changing method on. Such a name holds whatever the function uses."""
        for function in ast.walk(cell.tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            local, declared = _scope_locals(function)
            changed = set(declared & _stored_names(function))
            for node in _walk_here(function, skip_self=True):
                root = None
                if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
                        node.ctx, (ast.Store, ast.Del)):
                    root = _root_name(node)
                elif isinstance(node, ast.Call):
                    root = _mutated_root(node)
                if root and (root not in local or root in declared):
                    changed.add(root)
            for name in changed:
                self._binding(name, "scope", function, cell)

    # -- code anywhere that makes every answer uncertain ---------------------------------

    def _find_interference(self, cell) -> None:
        self._parents = {id(child): node for node in ast.walk(cell.tree)
                         for child in ast.iter_child_nodes(node)}

        def found(node, what, why):
            self.interference.append(_finding(cell, node, what, why))

        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else None
                if name in ("exec", "eval", "compile") and not _is_constant_text(node):
                    found(node, f"{name}() of text the grader cannot read",
                          "code made from text while the notebook runs could define or "
                          "change anything")
                elif name in ("setattr", "delattr") and node.args and (
                        len(node.args) < 2 or not _is_str(node.args[1])):
                    module = self._module_of(node.args[0])
                    what = f"{name}() on {_dotted(node.args[0])}"
                    if module and module.split(".")[0] not in _EVERYWHERE:
                        self.patched.setdefault(module.split(".")[0], _finding(
                            cell, node, what, "it changes a module by a name the grader "
                            "cannot check"))
                    else:
                        found(node, what, "it changes an object by a name the grader "
                              "cannot check")
                elif name in ("setattr", "delattr") and node.args:
                    self._changes(cell, node, node.args[0],
                                  f"a change to {_dotted(node.args[0])}.{node.args[1].value}")
                elif _ipython_call(node) is not None:
                    method, args = _ipython_call(node)
                    if not _safe_ipython(method, args):
                        found(node, f"get_ipython().{method}(...)"
                              + (f" (%{args[0]})" if args else ""),
                              "IPython's machinery can rewrite or run code the grader "
                              "cannot read")
                elif isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                    self._changes(cell, node, node.func.value, f"{_dotted(node.func)}(...)")
            elif isinstance(node, ast.Name) and node.id == "get_ipython" and not any(
                    _ipython_call(parent) for parent in _parents_call(cell.tree, node)):
                found(node, "get_ipython", "IPython's machinery can rewrite or run code "
                      "the grader cannot read")
            elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
                    node.ctx, (ast.Store, ast.Del)):
                if isinstance(node, ast.Attribute) and node.attr in REWIRING:
                    found(node, f"a change to {_dotted(node)}",
                          "it rewires what a function or class does")
                else:
                    attr = node.attr if isinstance(node, ast.Attribute) else None
                    self._changes(cell, node, node.value, f"a change to {_dotted(node)}", attr)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for _, module in _imported(node):
                    if module.split(".")[0] == "ctypes":
                        found(node, f"import of {module}",
                              "it can change the interpreter under your functions")

    def _changes(self, cell, node, target, what, attr=None) -> None:
        """``target`` (what is stored into, or has a changing method called on it) is
        changed. Keras, TensorFlow, ``sys`` and namespaces reached by text change what every
        function does; another module, or a builtin, only what reaches it."""
        module = self._module_of(target)
        why = "it changes a module or namespace that your functions rely on"
        if _is_dynamic(target) or module == "builtins" and attr in ("__import__",
                                                                    "__build_class__", None):
            self.interference.append(_finding(cell, node, what, why))
        elif module == "builtins":
            self.patched.setdefault(f"builtins.{attr}", _finding(cell, node, what, why))
        elif module and module.split(".")[0] in _EVERYWHERE:
            # Every function may meet the change: what it puts there counts for every one.
            statement = node
            while not isinstance(statement, ast.stmt) and id(statement) in self._parents:
                statement = self._parents[id(statement)]
            self.changes.append((cell, statement, what))
        elif module:
            self.patched.setdefault(module.split(".")[0], _finding(cell, node, what, why))

    def _module_of(self, node) -> str | None:
        """The module that ``node`` starts at, if it starts at an imported name."""
        root = _root_name(node)
        if root is None:
            return None
        modules = [b.module for b in self.bindings.get(root, []) if b.kind == "import"]
        if modules:
            return modules[0]
        return {"keras": "keras", "tf": "tensorflow", "tensorflow": "tensorflow",
                "sys": "sys", "builtins": "builtins"}.get(root)

    # -- the question --------------------------------------------------------------------

    def findings(self, name: str, forbidden=FORBIDDEN) -> list[Finding]:
        """Why ``name`` is not the student's own work; empty if it is."""
        key = (name, tuple(forbidden))
        if key not in self._cache:
            self._cache[key] = _Reach(self, tuple(forbidden)).run(name) + self.interference
        return list(self._cache[key])


class _Reach:
    """Follows what one graded function reaches and collects findings."""

    def __init__(self, submission: Submission, forbidden):
        self.sub, self.forbidden = submission, forbidden
        self.findings: list[Finding] = []
        self.names: set[str] = set()
        self.nodes: set[int] = set()

    def run(self, name: str) -> list[Finding]:
        self.graded = name
        if not self.sub.bindings.get(name):
            self.findings.append(Finding(
                f"no cell defines {name} where the grader can read it",
                "the grader must be able to read the code of the function it grades "
                "(was it made by exec, a magic, or another trick?)"))
        todo = [name]
        for cell, statement, what in self.sub.changes:
            before = len(self.findings)
            todo += self._code(statement, cell)
            for i in range(before, len(self.findings)):
                f = self.findings[i]
                self.findings[i] = Finding(f"{f.what} (in {what})", f.why, f.cell, f.line,
                                           f.quote)
        while todo:
            current = todo.pop()
            if current in self.names:
                continue
            self.names.add(current)
            todo += self._name(current)
        unique, seen = [], set()
        for f in self.findings:
            if (f.what, f.cell, f.line) not in seen:
                seen.add((f.what, f.cell, f.line))
                unique.append(f)
        return unique

    def _bad_module(self, module: str) -> str | None:
        parts = module.split(".")
        hit = [p for p in parts if p in self.forbidden]
        if hit:
            return "a ready-made network (or block) is not your own work"
        if not _allowed(module):
            return (f"a graded function may use only {', '.join(ALLOWED[:4])} and the "
                    f"standard helpers; other modules the grader cannot vouch for")
        return None

    def _name(self, name: str) -> list[str]:
        bindings = self.sub.bindings.get(name, [])
        if not bindings:
            if name in DYNAMIC_BUILTINS:
                self.findings.append(Finding(
                    name, "it reaches code or names by text, which the grader cannot check"))
            elif name in SAFE_NAMES or (name in _BUILTINS and not _HISTORY.match(name)):
                if f"builtins.{name}" in self.sub.patched:
                    self.findings.append(self.sub.patched[f"builtins.{name}"])
            elif self.sub.stars:
                for star in self.sub.stars:
                    why = self._bad_module(star.module)
                    if why:
                        self.findings.append(_finding(star.cell, star.node,
                                                      f"from {star.module} import *", why))
            else:
                self.findings.append(Finding(
                    f"{name}, which no cell of your notebook defines",
                    "a value from IPython's output history (_, Out) or made by a trick "
                    "could be a ready-made network"))
            return []
        used = []
        for binding in bindings:
            before = len(self.findings)
            if binding.kind == "import":
                why = self._bad_module(binding.module)
                if why:
                    self.findings.append(_finding(binding.cell, binding.node,
                                                  f"{name} from {binding.module}", why))
                elif binding.module.split(".")[0] in self.sub.patched:
                    self.findings.append(self.sub.patched[binding.module.split(".")[0]])
            else:
                used += self._code(binding.node, binding.cell)
            if binding.cell.instructor and len(self.findings) > before:
                # Say so without showing the tests' code (hidden tests stay hidden).
                del self.findings[before:]
                self.findings.append(Finding(
                    f"{name}, a name that the assignment's test cells define",
                    "graded code must not use the tests' own names: they hold the "
                    "reference networks", binding.cell.number))
            elif name != self.graded:
                for i in range(before, len(self.findings)):
                    f = self.findings[i]
                    self.findings[i] = Finding(f"{f.what} (reached through {name})", f.why,
                                               f.cell, f.line, f.quote)
        return used

    def _code(self, node, cell) -> list[str]:
        """Check the code of one binding; return the global names it uses."""
        if node is None or id(node) in self.nodes:
            return []
        self.nodes.add(id(node))

        def found(at, what, why):
            self.findings.append(_finding(cell, at, what, why))

        for n in ast.walk(node):
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                for _, module in _imported(n):
                    if module.split(".")[0] == "importlib":
                        found(n, f"import of {module}", "an import by computed name can "
                              "reach a ready-made network under any spelling")
                    elif self._bad_module(module):
                        found(n, f"import of {module}", self._bad_module(module))
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                if n.id == "getattr":
                    continue  # judged where it is called
                if n.id in DYNAMIC_BUILTINS:
                    found(n, f"{n.id}", _WHY_DYNAMIC.get(n.id, _WHY_TEXT))
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) \
                    and n.func.id == "getattr":
                if len(n.args) < 2 or not _is_str(n.args[1]):
                    found(n, "getattr() with a computed name", _WHY_TEXT)
                else:
                    self._attribute(n.args[1].value, n, cell, n.args[0])
            elif isinstance(n, ast.Attribute):
                self._attribute(n.attr, n, cell, n.value)
        for n in ast.walk(node):  # getattr used as a value (passed on, aliased)
            if isinstance(n, ast.Name) and n.id == "getattr" and not any(
                    isinstance(c, ast.Call) and c.func is n for c in ast.walk(node)):
                found(n, "getattr used as a value", _WHY_TEXT)
        return sorted(_module_names(node))

    def _attribute(self, attr, at, cell, value) -> None:
        def found(what, why):
            self.findings.append(_finding(cell, at, what, why))

        if attr in self.forbidden:
            found(f"{_dotted(value)}.{attr}", "a ready-made network (or block) is not your "
                  "own work")
        elif attr in DYNAMIC_ATTRIBUTES:
            found(f"{_dotted(value)}.{attr}", _WHY_TEXT)
        elif attr in REBUILDERS:
            found(f"{_dotted(value)}.{attr}", "a network rebuilt from a saved description "
                  "or fetched by name is not built by your code")
        elif attr in SYS_ATTRIBUTES and isinstance(value, ast.Name) and (
                value.id == "sys" or any(b.kind == "import" and b.module == "sys"
                                         for b in self.sub.bindings.get(value.id, []))):
            found(f"sys.{attr}", "it reaches modules by name, so any module under any "
                  "spelling")


_WHY_TEXT = "it looks code or names up by text, which the grader cannot check"
_WHY_DYNAMIC = {
    "exec": "it runs text as code, which the grader cannot read",
    "eval": "it runs text as code, which the grader cannot read",
    "compile": "it turns text into code, which the grader cannot read",
    "__import__": "an import by computed name can reach a ready-made network under any "
                  "spelling",
    "get_ipython": "IPython's machinery can run code the grader cannot read",
}


# ----------------------------------------------------------------------------- helpers


def _transform(source: str) -> str:
    """A cell's source as the kernel runs it: IPython's magics become calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with nbgrader and Jupyter
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _blocks(stmt) -> list[list]:
    """The statement lists inside a compound statement."""
    blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody")
              if isinstance(getattr(stmt, name, None), list)]
    blocks += [h.body for h in getattr(stmt, "handlers", [])]
    blocks += [c.body for c in getattr(stmt, "cases", [])]
    return blocks


def _is_str(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_constant_text(call) -> bool:
    return bool(call.args) and _is_str(call.args[0])


def _ipython_call(node):
    """``get_ipython().METHOD(args)`` -> (METHOD, constant args or None), else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "get_ipython"):
        args = [a.value for a in node.args if _is_str(a)]
        return node.func.attr, args if len(args) == len(node.args) else None
    return None


def _safe_ipython(method, args) -> bool:
    if method in ("system", "getoutput"):
        return True
    if args is None:
        return False
    if method == "run_line_magic":
        return bool(args) and args[0] in SAFE_LINE_MAGICS
    if method == "run_cell_magic":
        return bool(args) and args[0] in SAFE_CELL_MAGICS
    return False


def _constant_code(tree) -> list[str]:
    """Constant text that the cell runs as code: ``exec("...")``, ``%time ...``,
    ``%%capture`` bodies."""
    texts = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "compile") \
                and _is_constant_text(node):
            texts.append(node.args[0].value)
        call = _ipython_call(node)
        if call and call[1]:
            method, args = call
            if method == "run_cell_magic" and len(args) == 3:
                texts.append(args[2])
            elif method == "run_line_magic" and len(args) == 2 and args[0] in ("time",
                                                                               "timeit"):
                texts.append(re.sub(r"^(\s*-\w+(\s+\d+)?)*\s*", "", args[1]))
    return texts


def _parents_call(tree, name_node):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Call) and node.func.value.func is name_node:
            yield node


def _imported(stmt):
    """(name bound, dotted module or object it comes from) for each alias."""
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                yield alias.name.split(".")[0], alias.name.split(".")[0]
    else:
        base = "." * stmt.level + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                yield "*", base
            else:
                yield alias.asname or alias.name, f"{base}.{alias.name}" if not base.endswith(
                    ".") else base + alias.name


def _allowed(module: str | None) -> bool:
    if not module or module.startswith("."):
        return False
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def _root_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutated_root(call) -> str | None:
    if isinstance(call.func, ast.Attribute) and call.func.attr in MUTATORS:
        return _root_name(call.func.value)
    return None


def _is_dynamic(node) -> bool:
    """Does ``node`` reach a namespace by text: ``globals()``, ``vars(m)``,
    ``m.__dict__``, ``sys.modules``, a frame's ``f_globals``..."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id in DYNAMIC_BUILTINS | {"getattr"}:
            return True
        if isinstance(n, ast.Attribute) and (n.attr in DYNAMIC_ATTRIBUTES
                                             or n.attr in SYS_ATTRIBUTES):
            return True
    return False


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[...]"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}(...)"
    return "..."


def _finding(cell, node, what, why) -> Finding:
    line = getattr(node, "lineno", None)
    quote = None
    if not cell.instructor and line and line <= len(cell.lines):
        quote = cell.lines[line - 1].strip()
        quote = quote if len(quote) <= 90 else quote[:87] + "..."
    return Finding(what, why, cell.number, line if not cell.instructor else None, quote)


def _names_of(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _walk_here(node, skip_self=False):
    """The nodes of ``node``'s own scope: not inside nested functions, lambdas or classes
    (their names, decorators and defaults are still here)."""
    todo = list(ast.iter_child_nodes(node)) if skip_self or not isinstance(node, _SCOPES) \
        else [node]
    if skip_self and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        todo = list(node.body)
    elif skip_self and isinstance(node, ast.Lambda):
        todo = [node.body]
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo += current.decorator_list + _outer_args(current.args)
            todo += [current.returns] if current.returns else []
        elif isinstance(current, ast.Lambda):
            todo += _outer_args(current.args)
        elif isinstance(current, ast.ClassDef):
            todo += current.decorator_list + current.bases + current.keywords
        else:
            todo += list(ast.iter_child_nodes(current))


def _outer_args(args) -> list:
    """Defaults and annotations: evaluated where the function is defined."""
    out = [d for d in args.defaults + args.kw_defaults if d is not None]
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None and a.annotation is not None:
            out.append(a.annotation)
    return out


def _arg_names(args) -> set[str]:
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    return names


def _stored_names(function) -> set[str]:
    names = set()
    for node in _walk_here(function, skip_self=True):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {name for name, _ in _imported(node) if name != "*"}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    # a walrus in a comprehension binds in the function
    for node in ast.walk(function):
        if isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
    return names


def _scope_locals(function) -> tuple[set[str], set[str]]:
    """(local names, names declared global) of a function or lambda."""
    declared = set()
    for node in _walk_here(function, skip_self=True):
        if isinstance(node, ast.Global):
            declared |= set(node.names)
    local = (_arg_names(function.args) | _stored_names(function)) - declared
    return local, declared


def _module_names(node) -> set[str]:
    """The global names that ``node`` (code evaluated at module level, or a definition
    made there) looks up, nested scopes resolved as Python resolves them."""
    out: set[str] = set()
    _collect(node, frozenset(), out)
    return out


def _collect(node, local, out) -> None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        _collect_function(node, local, local, out)
    elif isinstance(node, ast.ClassDef):
        for part in node.decorator_list + node.bases + node.keywords:
            _collect(part, local, out)
        class_locals = set()
        for stmt in node.body:
            for n in _walk_here(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    class_locals.add(n.id)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                class_locals.add(stmt.name)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # a method sees the class's names only through self or the class
                _collect_function(stmt, local | class_locals, local, out)
            else:
                _collect(stmt, local | class_locals, out)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        targets = {n.id for g in node.generators for n in ast.walk(g.target)
                   if isinstance(n, ast.Name)}
        first, *rest = node.generators
        _collect(first.iter, local, out)
        inner = local | targets
        for part in [first.target, *first.ifs] + [p for g in rest for p in
                                                  (g.target, g.iter, *g.ifs)]:
            _collect(part, inner, out)
        for part in ((node.key, node.value) if isinstance(node, ast.DictComp)
                     else (node.elt,)):
            _collect(part, inner, out)
    elif isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in local:
            out.add(node.id)
    else:
        for child in ast.iter_child_nodes(node):
            _collect(child, local, out)


def _collect_function(node, outer, enclosing, out) -> None:
    decorators = getattr(node, "decorator_list", [])
    for part in decorators + _outer_args(node.args):
        _collect(part, outer, out)
    if getattr(node, "returns", None) is not None:
        _collect(node.returns, outer, out)
    own, declared = _scope_locals(node)
    inner = (set(enclosing) | own) - declared
    body = node.body if isinstance(node.body, list) else [node.body]
    for stmt in body:
        _collect(stmt, frozenset(inner), out)


def function_findings(source: str, name: str, forbidden=FORBIDDEN) -> list[Finding]:
    """For the in-kernel early check: what the code of one function, read alone, does
    that is not allowed (no names followed: the notebook is not at hand there)."""
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return []
    cell = _Cell(0, False, textwrap.dedent(source).splitlines(), tree)
    reach = _Reach(Submission(), tuple(forbidden))
    for node in tree.body:
        reach._code(node, cell)
    return [Finding(f.what, f.why, None, None, f.quote) for f in reach.findings]
