"""Evidence: items that back up what was done and spent, their files and their links."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import ProjectScoped, Versioned, not_negative, one_of, utcnow

# Each enum is defined once, as an ordered value -> label map; the tuple of values, the
# forms' choices and the database's CHECK constraint all derive from it. Labels are lazy
# (translated when shown, in the request's locale; the exports' Translator reads their msgid).
KIND_LABELS = {
    "report": _l("Report"),
    "agenda": _l("Agenda"),
    "attendance_list": _l("Attendance list"),
    "press_clipping": _l("Press clipping"),
    "photo": _l("Photo"),
    "receipt": _l("Receipt or invoice"),
    "contract": _l("Contract"),
    "decision": _l("Decision"),
    "other": _l("Other"),
}
EVIDENCE_KINDS = tuple(KIND_LABELS)

# The auditor's review of an item (tracker.evidence.services).
REVIEW_STATE_LABELS = {"pending": _l("Waiting for review"), "verified": _l("Verified"), "queried": _l("Queried")}
REVIEW_STATES = tuple(REVIEW_STATE_LABELS)


class StoredFile(db.Model):
    """A file's bytes, stored once under instance/ by its SHA-256 (content-addressed)."""

    __tablename__ = "stored_file"
    __table_args__ = (not_negative("size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EvidenceItem(ProjectScoped, Versioned, db.Model):
    """Versioned: a change of its links stamps the item too, so the item's version covers them."""

    __tablename__ = "evidence_item"
    __audit__ = True
    __table_args__ = (one_of("kind", EVIDENCE_KINDS), one_of("review_state", REVIEW_STATES),
                      Index("ix_evidence_item_project_review_state", "project_id", "review_state"),  # 0012
                      Index("ix_evidence_item_project_dated", "project_id", "deleted_at", "dated", "id"))  # 0013

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, default="other")
    title: Mapped[str] = mapped_column(Text, nullable=False)
    dated: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    url: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    language: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id", ondelete="RESTRICT"))
    # The user's own file name, shown only; never used to build a path.
    file_name: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    review_state: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    review_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Soft delete: the row stays for the audit trail.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    file: Mapped[StoredFile | None] = relationship()
    links: Mapped[list["EvidenceLink"]] = relationship(back_populates="evidence", cascade="all, delete-orphan")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


class EvidenceLink(ProjectScoped, db.Model):
    """One link from an evidence item to exactly one thing it backs up."""

    __tablename__ = "evidence_link"
    __audit__ = True
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN activity_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN period_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN result_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN expenditure_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_target",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_period.id", ondelete="CASCADE"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("result_node.id", ondelete="CASCADE"), index=True)
    expenditure_id: Mapped[int | None] = mapped_column(ForeignKey("expenditure.id", ondelete="CASCADE"), index=True)

    evidence: Mapped[EvidenceItem] = relationship(back_populates="links")
    activity = relationship("Activity")
    period = relationship("IndicatorPeriod")
    result = relationship("ResultNode")
    expenditure = relationship("Expenditure")


# What one evidence link backs up: exactly one of EvidenceLink's four target columns
# (``<target>_id``), in the order forms, filters and exports list them.
LINK_TARGET_LABELS = {"activity": _l("Activity"), "period": _l("Indicator period"), "result": _l("Result"),
                      "expenditure": _l("Expenditure")}
LINK_TARGETS = tuple(LINK_TARGET_LABELS)

# EvidenceItem.language: the languages an item is offered in ("" when not stated).
LANGUAGE_LABELS = {"": _l("Not stated"), "vi": _l("Vietnamese"), "en": _l("English"), "ko": _l("Korean"),
                   "fr": _l("French"), "zh": _l("Chinese"), "other": _l("Other")}
