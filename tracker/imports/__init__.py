"""The workbook import: a thin translation layer from sheet rows to the areas' services.

Layout: ``package`` (refusing files that are not plain .xlsx, before openpyxl opens them),
``sheets`` (which sheets and headers, reading tables and cells as typed text), ``plan`` (the
dry run and applying: one code path, see its docstring), ``indicators`` (periods, targets,
actuals, end targets), ``update`` (a project's import), ``create`` (a new project from a
filled-in template), ``uploads`` (keeping a workbook between its dry run and applying it),
``forms`` and ``routes`` (the ``imports`` blueprint).
"""
