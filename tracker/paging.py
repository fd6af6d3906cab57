"""Paging arithmetic shared by every paged list (audit trail, evidence register, expenditures, auditor).

``page_count(total, size)`` pages needed (at least one); ``clamp(page, total, size)`` a requested page
kept within them; ``page_arg(args, name)`` a page number from the query string (1 when absent or bad);
``Page`` one page of rows with its true total (read with SQL COUNT), for the pager and "load more".
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PAGE = 100_000


def page_count(total: int, page_size: int) -> int:
    """Pages needed for ``total`` rows (at least one, so an empty list still has its page 1)."""
    return max(1, -(-total // page_size))


def clamp(page: int, total: int, page_size: int) -> int:
    """``page`` kept between 1 and the last page."""
    return min(max(1, page), page_count(total, page_size))


def offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_arg(args, name: str = "page") -> int:
    """A page number from the query string: 1 when absent or not a number."""
    try:
        return max(1, min(int(args.get(name, 1)), MAX_PAGE))
    except (TypeError, ValueError):
        return 1


@dataclass
class Page:
    items: list = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 50

    @property
    def pages(self) -> int:
        return page_count(self.total, self.page_size)

    @property
    def first(self) -> int:
        return 0 if not self.total else offset(self.page, self.page_size) + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.last)

    def __len__(self) -> int:
        return self.total

    def __iter__(self):
        return iter(self.items)

    def __bool__(self) -> bool:
        return bool(self.total)


def render_block(template_name: str, block: str, **context) -> str:
    """One block of a page template, with the page's context (the rows htmx's "load more" appends)."""
    from flask import current_app

    template = current_app.jinja_env.get_template(template_name)
    current_app.update_template_context(context)
    return "".join(template.blocks[block](template.new_context(context)))
