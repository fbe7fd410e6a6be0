"""A cooperative's own label sheet, defined in millimetres, for sheets that are not built in."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.mixins import Tracked


class LabelTemplate(Tracked, db.Model):
    """One sheet layout of one cooperative. Editing it never changes a run already printed with it: a run keeps a
    frozen copy of the dimensions it was printed with (LabelRun.sheet)."""

    __tablename__ = "label_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    page_size: Mapped[str] = mapped_column(String(8), default="a4")  # "a4", "a5" or "custom"
    page_width: Mapped[float]
    page_height: Mapped[float]
    columns: Mapped[int]
    rows: Mapped[int]
    label_width: Mapped[float]
    label_height: Mapped[float]
    margin_left: Mapped[float] = mapped_column(default=0.0)
    margin_top: Mapped[float] = mapped_column(default=0.0)
    gap_x: Mapped[float] = mapped_column(default=0.0)
    gap_y: Mapped[float] = mapped_column(default=0.0)
    corner_radius: Mapped[float] = mapped_column(default=0.0)
