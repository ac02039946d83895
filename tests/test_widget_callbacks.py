"""Every widget callback runs behind ``@guarded``: read from the source of every module of alwidgets.widgets.

A handler passed to ``.on_click``, ``.observe``, ``.on_msg``, ``.on_submit`` or
``.when_shown``, a key listener's callbacks, and the task and callbacks of a
``Worker`` or ``Poller`` must be ``self.method`` where ``method`` is decorated
with ``@guarded(...)`` in the same class (or a base class in the same module),
or a lambda whose body is one call of such a method. Local functions, other
objects' methods and plain names are refused: a reader cannot tell they are
guarded. A Worker's task may go unguarded when the Worker has an ``on_error``
that calls ``report_error``. Also here: the guard's own rules (nested guards,
``report_error``, ``call_apart``).
"""

from __future__ import annotations

import ast
import logging
import threading
from pathlib import Path

import pytest

from alwidgets.widgets import _guard
from alwidgets.widgets._guard import call_apart, guarded, is_guarded, report_error

WIDGETS = Path(_guard.__file__).resolve().parent
REGISTRARS = {"on_click", "observe", "on_msg", "on_submit", "when_shown"}
# constructor -> the callback parameters, by position and by keyword
CONSTRUCTORS = {
    "Worker": ["task", "on_error", "on_busy", "on_idle"],
    "Poller": ["task"],
    "KeyListener": ["on_key", None, "on_submit"],
}
CHECKED_KEYWORDS = {"task", "on_error", "on_busy", "on_idle", "on_key", "on_submit", "handler", "callback"}


def _decorated_guarded(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == "guarded" and isinstance(decorator, ast.Call):
            return True
    return False


def _calls_report_error(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            target = node.func
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            if name == "report_error":
                return True
    return False


class _Classes:
    """The methods of each class of one module, with their bases in that module."""

    def __init__(self, tree: ast.Module):
        self.methods: dict[str, dict[str, ast.FunctionDef]] = {}
        self.bases: dict[str, list[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.methods[node.name] = {f.name: f for f in node.body
                                           if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
                self.bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]

    def method(self, cls: str | None, name: str) -> ast.FunctionDef | None:
        seen = set()
        stack = [cls] if cls else []
        while stack:
            current = stack.pop()
            if current in seen or current not in self.methods:
                continue
            seen.add(current)
            if name in self.methods[current]:
                return self.methods[current][name]
            stack.extend(self.bases.get(current, []))
        return None


def _self_method(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _handler_problem(node: ast.AST, cls: str | None, classes: _Classes) -> str | None:
    """None if ``node`` is an acceptable handler, else why not."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.IfExp):
        return _handler_problem(node.body, cls, classes) or _handler_problem(node.orelse, cls, classes)
    if isinstance(node, ast.Lambda):
        body = node.body
        if not (isinstance(body, ast.Call) and _self_method(body.func)):
            return "a lambda that does more than call one guarded method of self"
        for argument in [*body.args, *(k.value for k in body.keywords)]:
            if any(isinstance(n, (ast.Call, ast.Lambda, ast.NamedExpr)) for n in ast.walk(argument)):
                return "a lambda whose arguments call something outside the guard"
        return _handler_problem(body.func, cls, classes)
    name = _self_method(node)
    if name is None:
        return f"{ast.unparse(node)!r} is not a method of self (a local function or another object's method)"
    method = classes.method(cls, name)
    if method is None:
        return f"self.{name} is not a method defined in this module's class {cls}"
    if not _decorated_guarded(method):
        return f"self.{name} is not decorated with @guarded(...)"
    return None


def unguarded_handlers(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: why`` for every widget callback in ``source`` that is not behind ``@guarded``."""
    tree = ast.parse(source, filename)
    classes = _Classes(tree)
    problems: list[str] = []

    def visit(node: ast.AST, cls: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            cls = node.name
        if isinstance(node, ast.Call):
            check(node, cls)
        for child in ast.iter_child_nodes(node):
            visit(child, cls)

    def complain(node: ast.AST, what: str, why: str) -> None:
        problems.append(f"{filename}:{node.lineno}: {what}: {why}")

    def check(call: ast.Call, cls: str | None) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in REGISTRARS:
            handler = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg in CHECKED_KEYWORDS), None)
            if handler is not None:
                why = _handler_problem(handler, cls, classes)
                if why:
                    complain(call, f".{func.attr}({ast.unparse(handler)})", why)
            return
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in CONSTRUCTORS:
            return
        given = {param: arg for param, arg in zip(CONSTRUCTORS[name], call.args, strict=False) if param}
        given.update({k.arg: k.value for k in call.keywords if k.arg in CHECKED_KEYWORDS})
        for param, handler in given.items():
            why = _handler_problem(handler, cls, classes)
            if param == "on_error" and why == f"self.{_self_method(handler)} is not decorated with @guarded(...)":
                method = classes.method(cls, _self_method(handler))
                why = None if _calls_report_error(method) else f"self.{method.name} does not call report_error"
            elif param == "task" and name == "Worker" and why and "on_error" in given:
                why = None  # the worker hands its error to on_error
            if why:
                complain(call, f"{name}({param}={ast.unparse(handler)})", why)

    visit(tree, None)
    return problems


def widget_modules() -> list[Path]:
    return sorted(WIDGETS.glob("*.py"))


@pytest.mark.parametrize("path", widget_modules(), ids=lambda p: p.name)
def test_every_widget_callback_is_guarded(path):
    problems = unguarded_handlers(path.read_text(), f"alwidgets/widgets/{path.name}")
    assert not problems, "widget callbacks that are not behind @guarded(...):\n" + "\n".join(problems)


BAD = '''
class Panel:
    def __init__(self):
        self.button.on_click(lambda _b: self.save())           # 4: save is not guarded
        self.other.on_click(lambda _b: self.ok())               # fine
        self.box.observe(self.changed, names="value")           # 6: not guarded
        def local(change):
            self.ok()
        self.box.observe(local, names="value")                  # 9: a local function
        self.link.on_msg(self.ok)                               # fine
        self.field.on_submit(print)                             # 11: not a method of self
        self.w = Worker(self.save, name="x")                    # 12: unguarded task, no on_error
        self.v = Worker(self.save, on_error=self.failed)        # fine: on_error calls report_error
        self.p = Poller(self.save, 3)                           # 14: unguarded task
        self.k = KeyListener(self.ok, [], on_submit=self.save if x else None)  # 15: on_submit not guarded
        self.q = Worker(self.ok, on_error=self.save)            # 16: on_error does not report
        self.more.on_click(lambda _b: self.ok(self.save()))     # 17: calls outside the guard

    @guarded("ok")
    def ok(self, *args):
        pass

    def save(self):
        pass

    def changed(self, change):
        pass

    def failed(self, error):
        report_error(self, "saving", error)
'''


def test_the_detector_names_each_unguarded_handler_by_file_and_line():
    problems = unguarded_handlers(BAD, "bad.py")
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [4, 6, 9, 11, 12, 14, 15, 16, 17], "\n".join(problems)
    assert all(p.startswith("bad.py:") for p in problems)


# ---------------------------------------------------------------------- the guard's rules


class Widget:
    """The smallest guarded widget: errors, a lock, and the one method that shows a problem."""

    def __init__(self):
        self.errors: list[str] = []
        self.shown: list[tuple[str, BaseException]] = []
        self._ui_lock = threading.RLock()
        self.lock_held: list[bool] = []

    def _show_problem(self, message, error):
        self.lock_held.append(self._ui_lock._is_owned())
        self.shown.append((message, error))

    @guarded("click")
    def click(self):
        self.save()
        return "clicked"

    @guarded("save")
    def save(self):
        raise RuntimeError("disk full")

    @guarded("label")
    def label(self):
        raise ValueError("pick one of: cat, dog")


def test_an_error_is_logged_counted_and_shown_under_the_widgets_lock(caplog):
    widget = Widget()
    with caplog.at_level(logging.WARNING, logger="alwidgets"):
        assert widget.save() is None
    assert widget.errors == ["save failed (RuntimeError: disk full)"]
    assert widget.shown[0][0] == widget.errors[0] and isinstance(widget.shown[0][1], RuntimeError)
    assert widget.lock_held == [True]
    assert any(r.exc_info and r.exc_info[1] is widget.shown[0][1] for r in caplog.records)


def test_a_nested_guard_lets_the_outermost_report_under_its_own_action():
    widget = Widget()
    assert widget.click() is None
    assert widget.errors == ["click failed (RuntimeError: disk full)"]  # once, and named after the click
    assert widget.label() is None and widget.errors[-1] == "pick one of: cat, dog"  # the depth was reset


def test_the_nesting_is_counted_per_thread():
    widget = Widget()
    seen = []

    class Outer(Widget):
        @guarded("outer")
        def run(self):
            thread = threading.Thread(target=lambda: seen.append(widget.save()))
            thread.start()
            thread.join()

    Outer().run()
    assert seen == [None] and widget.errors == ["save failed (RuntimeError: disk full)"]  # reported on its own thread


def test_call_apart_lets_another_widgets_guard_report_on_its_own_page():
    mine, theirs = Widget(), Widget()

    class Link(Widget):
        @guarded("message")
        def receive(self):
            call_apart(theirs.save)

    link = Link()
    link.receive()
    assert theirs.errors == ["save failed (RuntimeError: disk full)"] and link.errors == [] and mine.errors == []


def test_report_error_never_raises_when_the_page_cannot_show_it(caplog):
    class Broken(Widget):
        def _show_problem(self, message, error):
            raise RuntimeError("closed")

    widget = Broken()
    assert report_error(widget, "model update", KeyError("x")) == "'x'"
    assert widget.errors == ["'x'"]
    assert any("could not show" in r.getMessage() for r in caplog.records)


def test_is_guarded_sees_the_decorator_on_a_bound_method():
    widget = Widget()
    assert is_guarded(widget.save) and is_guarded(Widget.click) and not is_guarded(widget._show_problem)
