"""Names of things users pick from, shared by the dashboard and the public pages."""
from flask_babel import lazy_gettext as _l

from app.models import EventKind

EVENT_LABELS = {
    EventKind.PLANTING: _l("Planting"), EventKind.FERTILISING: _l("Fertilising"),
    EventKind.SPRAYING: _l("Spraying"), EventKind.IRRIGATION: _l("Irrigation"),
    EventKind.HARVEST: _l("Harvest"), EventKind.PACKING: _l("Packing"),
    EventKind.TRANSPORT: _l("Transport"), EventKind.INSPECTION: _l("Inspection"),
    EventKind.OTHER: _l("Other"),
}
