"""
A custom import-linter contract type: a context's public face.

Only ``<context>.api``, ``<context>.data`` and ``<context>.events`` (and their submodules, should
one of them grow into a package) may be imported from outside ``<context>``; everything else in it
is private. The built-in types cannot say "everything but these three" for contexts that are
planned but not written yet: ``protected`` and ``forbidden`` need modules that exist, and
``private_modules`` goes by a leading underscore. Hence this type, registered in pyproject.toml::

    [tool.importlinter]
    contract_types = ["public_api: shop.importlinter_contracts.PublicApiContract"]

Options:
    contexts:        the contexts (top-level packages or subpackages such as ``shop.accounts``);
                     those not in the graph yet are skipped.
    public_modules:  the module names, relative to a context, that other code may import.
    ignore_imports:  import expressions to leave out, each with a comment saying why. (Optional.)
    unmatched_ignore_imports_alerting: "error" (default), "warn" or "none" for an ignored import
                     that no longer exists.
    broken_contract_guidance: text shown after the violations. (Optional.)

Only direct imports count: ``cart.services -> catalog.api -> catalog.models`` is the intended path.
A context that exists in the working directory but is missing from ``root_packages`` breaks the
contract too, because its imports would otherwise go unchecked by every contract.

lint-imports puts the working directory on ``sys.path`` before it loads this module, so run it
from the repository root (``make lint`` does). The module belongs to the project rather than to a
context, and it imports nothing of the shop; it needs the dev dependency import-linter, so nothing
at run time may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils
from importlinter.domain.contract import InvalidContractOptions
from importlinter.domain.imports import Module
from rich.markup import escape


@dataclass(frozen=True)
class PrivateImport:
    """One import of a module that is private to its context, from outside the context."""

    context: str
    importer: str
    imported: str
    line_number: int | None
    line_contents: str


class PublicApiContract(Contract):
    """Only the public modules of each context may be imported from outside that context."""

    type_name = "public_api"

    contexts = fields.ListField(subfield=fields.StringField())
    public_modules = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )
    broken_contract_guidance = fields.TextField(required=False)

    def validate(self) -> None:
        contexts = [Module(name) for name in self.contexts]
        nested = sorted(
            f"'{inner}' is inside '{outer}'"
            for outer in contexts
            for inner in contexts
            if inner != outer and inner.is_descendant_of(outer)
        )
        if nested:
            raise InvalidContractOptions({"contexts": f"Contexts cannot nest: {', '.join(nested)}."})
        dotted = sorted(name for name in self.public_modules if not name.isidentifier())
        if dotted:
            raise InvalidContractOptions(
                {"public_modules": f"Give module names relative to the context: {', '.join(dotted)}."}
            )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        import_removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,
            unmatched_alerting=self.unmatched_ignore_imports_alerting,
        )
        present = [name for name in self.contexts if name in graph.modules]
        unrooted = sorted(
            name
            for name in self.contexts
            if name not in graph.modules and "." not in name and _is_package_in_working_directory(name)
        )
        for name in sorted(set(self.contexts) - set(present) - set(unrooted)):
            output.verbose_print(verbose, f"Skipping {name}: not in the graph (not written yet).")

        private_imports = []
        for context in present:
            output.verbose_print(verbose, f"Looking for imports of {context}'s private modules...")
            private_imports.extend(self._find_private_imports(graph, context))

        return ContractCheck(
            kept=not (private_imports or unrooted),
            warnings=list(import_removal.warnings),
            ignored_import_count=import_removal.ignored_import_count,
            metadata={"private_imports": private_imports, "unrooted_contexts": unrooted},
        )

    def _find_private_imports(self, graph: grimp.ImportGraph, context: str) -> list[PrivateImport]:
        context_module = Module(context)
        public = [Module(f"{context}.{name}") for name in self.public_modules]
        private_imports = []
        for imported in sorted({context} | graph.find_descendants(context)):
            imported_module = Module(imported)
            if any(imported_module == p or imported_module.is_descendant_of(p) for p in public):
                continue
            for importer in sorted(graph.find_modules_that_directly_import(imported)):
                importer_module = Module(importer)
                if importer_module == context_module or importer_module.is_descendant_of(context_module):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported) or [
                    {"line_number": None, "line_contents": ""}
                ]
                private_imports.extend(
                    PrivateImport(
                        context=context,
                        importer=importer,
                        imported=imported,
                        line_number=detail["line_number"],
                        line_contents=detail["line_contents"],
                    )
                    for detail in details
                )
        return sorted(private_imports, key=lambda i: (i.importer, i.imported, i.line_number or 0))

    def render_broken_contract(self, check: ContractCheck) -> None:
        for name in check.metadata["unrooted_contexts"]:
            output.print_error(
                escape(
                    f"{name} exists but is not in root_packages, so no contract checks its imports: "
                    f"add it to [tool.importlinter] root_packages."
                ),
                bold=False,
            )
            output.new_line()

        for (importer, imported, context), group in groupby(
            check.metadata["private_imports"], key=lambda i: (i.importer, i.imported, i.context)
        ):
            public = ", ".join(f"{context}.{name}" for name in self.public_modules)
            output.print_error(
                f"{importer} is not allowed to import {imported} (private to {context}; use {public}):",
                bold=False,
            )
            output.new_line()
            for private_import in group:
                line = "?" if private_import.line_number is None else private_import.line_number
                output.print_error(
                    f"- {importer} -> {imported} (l.{line}: {escape(private_import.line_contents)})",
                    bold=False,
                )
            output.new_line()

        contract_utils.render_broken_contract_guidance(self.broken_contract_guidance)


def _is_package_in_working_directory(name: str) -> bool:
    """lint-imports runs from the repository root, so a context written there is a directory in it."""
    return (Path.cwd() / name / "__init__.py").is_file()
