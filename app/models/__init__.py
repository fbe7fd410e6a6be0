"""Database models. Import from here so every table is registered with the metadata."""
from app.models.account import PasswordReset, UserSession
from app.models.api import ApiToken, IdempotencyKey
from app.models.audit import AuditEvent
from app.models.batch import Batch, BatchStatus, DiaryEvent, EventKind
from app.models.compliance import BannedSubstance, BannedTradeName, GateOverride
from app.models.cooperative import Cooperative
from app.models.geo import Commune, Province
from app.models.label_template import LabelTemplate
from app.models.notice import Notice, NoticeKind
from app.models.product import Certification, Product, ProductPhoto
from app.models.rate_limits import rate_limit_counters
from app.models.scan_counts import ScanDayCount, StampFirstScan
from app.models import revisions  # noqa: F401  (registers the session hook)
from app.models.shipment import BatchInput, BuyerKind, InputKind, Shipment, ShipmentRange
from app.models.stamps import (FakeReport, LabelRun, RangeAction, ReportStatus, RunStatus, Scan, ScanDevice, Stamp,
                               StampRangeEvent)
from app.models.user import Role, User, officer_communes
from app.models.verification import Outcome, Verification

__all__ = [
    "AuditEvent", "PasswordReset", "UserSession", "ApiToken", "IdempotencyKey",
    "BannedSubstance", "BannedTradeName", "GateOverride",
    "Batch", "BatchStatus", "FakeReport", "Certification", "Commune", "Cooperative", "DiaryEvent", "EventKind",
    "LabelRun", "LabelTemplate", "Notice", "NoticeKind", "Product", "ProductPhoto", "Province", "RangeAction", "ReportStatus", "Role", "RunStatus", "Scan", "ScanDevice", "Stamp",
    "StampRangeEvent", "User", "ScanDayCount", "StampFirstScan",
    "BatchInput", "BuyerKind", "InputKind", "Shipment", "ShipmentRange",
    "officer_communes", "rate_limit_counters", "Outcome", "Verification",
]
