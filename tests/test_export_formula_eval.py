"""A tiny evaluator for the simple formulas the donor's workbook writes, so tests can
recompute the workbook's figures from the saved file and compare them with the app's.

It understands numbers, "text", cell references (A1) and ranges (A1:A9) in SUM, + - * /,
comparisons (= <> < > <= >=) and IF, ISNUMBER, SUM, ROUND, AND. Empty cells count as 0 in
arithmetic and are not numbers for ISNUMBER, as in Excel.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from openpyxl.utils import column_index_from_string

TOKEN = re.compile(r'\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"(?:[^"]|"")*")|(?P<func>[A-Z]+)\(|'
                   r'(?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)|(?P<op><=|>=|<>|[-+*/=<>(),&]))')
EMPTY = object()
DIV0 = "#DIV/0!"  # what Excel shows; only harmful when an IF picks it


class Evaluator:
    def __init__(self, sheet):
        self.sheet = sheet

    def value(self, coordinate: str):
        """The cell's value, its formula evaluated (None for an empty cell)."""
        cell = self.sheet[coordinate]
        if cell.data_type == "f":
            return self.evaluate(cell.value)
        if isinstance(cell.value, float | int) and not isinstance(cell.value, bool):
            return Decimal(repr(cell.value)) if isinstance(cell.value, float) else Decimal(cell.value)
        return cell.value

    def evaluate(self, formula: str):
        saved = getattr(self, "tokens", None), getattr(self, "position", 0)  # a reference may nest
        self.tokens = self._tokenize(formula.lstrip("="))
        self.position = 0
        try:
            result = self._comparison()
            assert self.position == len(self.tokens), f"could not read all of {formula!r}"
        finally:
            self.tokens, self.position = saved
        return None if result is EMPTY else result

    # --- parsing ---
    def _tokenize(self, text):
        tokens, index = [], 0
        while index < len(text):
            match = TOKEN.match(text, index)
            assert match and match.end() > index, f"cannot read {text[index:]!r}"
            kind = match.lastgroup
            tokens.append((kind, match.group(kind)))
            index = match.end()
        return tokens

    def _peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def _take(self, value=None):
        token = self._peek()
        assert value is None or token[1] == value, f"expected {value!r}, got {token!r}"
        self.position += 1
        return token

    def _comparison(self):
        left = self._additive()
        kind, op = self._peek()
        if kind == "op" and op in ("=", "<>", "<", ">", "<=", ">="):
            self._take()
            right = self._additive()
            left, right = self._num_or_text(left), self._num_or_text(right)
            return {"=": left == right, "<>": left != right, "<": left < right, ">": left > right,
                    "<=": left <= right, ">=": left >= right}[op]
        return left

    def _additive(self):
        value = self._term()
        while self._peek() in (("op", "+"), ("op", "-")):
            op = self._take()[1]
            right = self._term()
            value = self._num(value) + self._num(right) if op == "+" else self._num(value) - self._num(right)
        return value

    def _term(self):
        value = self._factor()
        while self._peek() in (("op", "*"), ("op", "/")):
            op = self._take()[1]
            right = self._factor()
            if op == "/" and self._num(right) == 0:
                value = DIV0
            else:
                value = self._num(value) * self._num(right) if op == "*" else self._num(value) / self._num(right)
        return value

    def _factor(self):
        kind, text = self._take()
        if kind == "num":
            return Decimal(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            if ":" in text:
                return ("range", text)
            value = self.value(text.replace("$", ""))
            return EMPTY if value is None or value == "" else value
        if kind == "op" and text == "-":
            return -self._num(self._factor())
        if kind == "op" and text == "(":
            value = self._comparison()
            self._take(")")
            return value
        if kind == "func":
            args = []
            if self._peek() != ("op", ")"):
                args.append(self._comparison())
                while self._peek() == ("op", ","):
                    self._take()
                    args.append(self._comparison())
            self._take(")")
            return self._call(text, args)
        raise AssertionError(f"unexpected {text!r}")

    def _call(self, name, args):
        if name == "IF":
            return args[1] if args[0] else (args[2] if len(args) > 2 else False)
        if name == "ISNUMBER":
            return isinstance(args[0], Decimal)
        if name == "AND":
            return all(args)
        if name == "ROUND":
            places = int(args[1])
            return self._num(args[0]).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if name == "SUM":
            total = Decimal(0)
            for arg in args:
                if isinstance(arg, tuple) and arg[0] == "range":
                    for value in self._range(arg[1]):
                        if isinstance(value, Decimal):
                            total += value
                else:
                    total += self._num(arg)
            return total
        raise AssertionError(f"unknown function {name}")

    def _range(self, text):
        first, last = text.replace("$", "").split(":")
        col1, row1 = re.match(r"([A-Z]+)(\d+)", first).groups()
        col2, row2 = re.match(r"([A-Z]+)(\d+)", last).groups()
        from openpyxl.utils import get_column_letter

        for column in range(column_index_from_string(col1), column_index_from_string(col2) + 1):
            for row in range(int(row1), int(row2) + 1):
                yield self.value(f"{get_column_letter(column)}{row}")

    @staticmethod
    def _num(value):
        if value is EMPTY or value is None:
            return Decimal(0)
        assert isinstance(value, Decimal), f"not a number: {value!r}"
        return value

    @staticmethod
    def _num_or_text(value):
        return Decimal(0) if value is EMPTY or value is None else value


# --- The evaluator checks itself on a small sheet ---------------------------------------------

def test_the_evaluator_computes_the_workbooks_kinds_of_formula():
    from openpyxl import Workbook

    ws = Workbook().active
    ws["A1"], ws["A2"], ws["A3"] = 10, 2.5, None
    ws["B1"] = "=SUM(A1:A3)"
    ws["B2"] = '=IF(ISNUMBER(A3),A3,A1)-A2'
    ws["B3"] = '=IF(A3=0,"",A2/A1)'
    ws["B4"] = '=IF(ROUND(B1-12.5,2)=0,"OK","DIFFERS")'
    ws["B5"] = '=IF(AND(ISNUMBER(A1),ISNUMBER(A2)),IF(A1=0,"",A2/A1),"")'
    evaluate = Evaluator(ws).value
    assert evaluate("B1") == Decimal("12.5")
    assert evaluate("B2") == Decimal("7.5")
    assert evaluate("B3") == ""
    assert evaluate("B4") == "OK"
    assert evaluate("B5") == Decimal("0.25")
