"""Words the messages use, in Turkish and English: statuses, roles, event types, dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from izlek_common.turkish_time import TURKEY

PROTOCOL_STATUSES = {
    "draft": ("taslak", "draft"),
    "proposed": ("meclise sunuldu", "proposed to the council"),
    "council_approved": ("meclis onayladı", "approved by the council"),
    "council_rejected": ("meclis reddetti", "rejected by the council"),
    "signed": ("imzalandı", "signed"),
    "in_force": ("yürürlükte", "in force"),
    "suspended": ("askıya alındı", "suspended"),
    "terminated": ("feshedildi", "terminated"),
    "expired": ("süresi doldu", "expired"),
    "renewed": ("yenilendi", "renewed"),
}
COMMITMENT_STATUSES = {
    "planned": ("planlandı", "planned"),
    "in_progress": ("sürüyor", "in progress"),
    "done": ("tamamlandı", "done"),
    "dropped": ("bırakıldı", "dropped"),
    "overdue": ("gecikmiş", "overdue"),
}
ROLES = {
    "auditor": ("denetçi", "auditor"),
    "coordinator": ("koordinatör", "coordinator"),
    "liaison": ("belediye muhatabı", "municipal liaison"),
    "member": ("kooperatif temsilcisi", "cooperative representative"),
    "partner_app": ("ortak uygulama", "partner app"),
    "admin": ("yönetici", "administrator"),
}
ENTITY_KINDS = {
    "plan": ("eylem planı", "action plan"),
    "commitment": ("faaliyet", "commitment"),
    "criterion": ("başarı kriteri", "success criterion"),
    "indicator": ("gösterge", "indicator"),
    "organisation": ("kurum", "organisation"),
    "person": ("kişi", "person"),
    "protocol": ("protokol", "protocol"),
    "purchase": ("satın alma", "purchase"),
    "actor_group": ("aktör grubu", "actor group"),
}
EVENT_TYPES = {
    "plans.plan.started": ("Eylem planı başlatıldı", "Action plan started"),
    "plans.plan.details_changed": ("Eylem planı değişti", "Action plan changed"),
    "plans.plan.corrected": ("Eylem planında düzeltme", "Action plan corrected"),
    "plans.plan.goal_added": ("Amaç eklendi", "Goal added"),
    "plans.plan.goal_changed": ("Amaç değişti", "Goal changed"),
    "plans.plan.goal_corrected": ("Amaçta düzeltme", "Goal corrected"),
    "plans.plan.target_added": ("Hedef eklendi", "Target added"),
    "plans.plan.target_changed": ("Hedef değişti", "Target changed"),
    "plans.plan.target_corrected": ("Hedefte düzeltme", "Target corrected"),
    "plans.plan.actor_group_defined": ("Aktör grubu tanımlandı", "Actor group defined"),
    "plans.plan.priority_defined": ("Öncelik tanımlandı", "Priority defined"),
    "plans.plan.report_published": ("Rapor yayımlandı", "Report published"),
    "plans.plan.commitment_attached": ("Faaliyet plana eklendi", "Commitment added to the plan"),
    "plans.plan.criterion_attached": ("Başarı kriteri plana eklendi", "Success criterion added to the plan"),
    "plans.plan.indicator_attached": ("Gösterge plana eklendi", "Indicator added to the plan"),
    "plans.commitment.registered": ("Faaliyet kaydedildi", "Commitment registered"),
    "plans.commitment.status_changed": ("Faaliyetin durumu değişti", "Commitment status changed"),
    "plans.commitment.details_changed": ("Faaliyet değişti", "Commitment changed"),
    "plans.commitment.assigned": ("Faaliyet atandı", "Commitment assigned"),
    "plans.commitment.evidence_added": ("Faaliyete kanıt eklendi", "Evidence added to a commitment"),
    "plans.commitment.corrected": ("Faaliyette düzeltme", "Commitment corrected"),
    "plans.criterion.defined": ("Başarı kriteri tanımlandı", "Success criterion defined"),
    "plans.criterion.text_changed": ("Başarı kriterinin metni değişti", "Success criterion text changed"),
    "plans.criterion.text_corrected": ("Başarı kriterinin metninde düzeltme", "Success criterion text corrected"),
    "plans.criterion.measure_changed": ("Başarı kriterinin ölçüsü değişti", "Success criterion measure changed"),
    "plans.criterion.measure_corrected": ("Başarı kriterinin ölçüsünde düzeltme",
                                          "Success criterion measure corrected"),
    "plans.criterion.band_overridden": ("Başarı durumu elle belirlendi", "Success band overridden"),
    "plans.criterion.band_override_withdrawn": ("Elle belirlenen başarı durumu geri alındı",
                                                "Success band override withdrawn"),
    "plans.indicator.defined": ("Gösterge tanımlandı", "Indicator defined"),
    "plans.indicator.details_changed": ("Gösterge değişti", "Indicator changed"),
    "plans.indicator.baseline_set": ("Başlangıç değeri belirlendi", "Baseline set"),
    "plans.indicator.baseline_corrected": ("Başlangıç değerinde düzeltme", "Baseline corrected"),
    "plans.indicator.target_set": ("Hedef değer belirlendi", "Target value set"),
    "plans.indicator.target_corrected": ("Hedef değerde düzeltme", "Target value corrected"),
    "plans.indicator.actual_recorded": ("Gerçekleşen değer girildi", "Actual value recorded"),
    "plans.indicator.actual_corrected": ("Gerçekleşen değerde düzeltme", "Actual value corrected"),
    "plans.indicator.band_overridden": ("Başarı durumu elle belirlendi", "Success band overridden"),
    "plans.indicator.band_override_withdrawn": ("Elle belirlenen başarı durumu geri alındı",
                                                "Success band override withdrawn"),
    "partners.organisation.registered": ("Kurum kaydedildi", "Organisation registered"),
    "partners.organisation.details_changed": ("Kurum bilgileri değişti", "Organisation details changed"),
    "partners.organisation.corrected": ("Kurum bilgilerinde düzeltme", "Organisation details corrected"),
    "partners.organisation.liaison_designated": ("Muhatap belirlendi", "Liaison designated"),
    "partners.organisation.liaison_ended": ("Muhatabın görevi sona erdi", "Liaison's term ended"),
    "partners.organisation.purchase_volume_declared": ("Satın alma hacmi bildirildi", "Purchase volume declared"),
    "partners.organisation.purchase_volume_corrected": ("Satın alma hacminde düzeltme",
                                                        "Purchase volume corrected"),
    "partners.person.registered": ("Kişi kaydedildi", "Person registered"),
    "partners.person.details_changed": ("Kişi bilgileri değişti", "Person's details changed"),
    "partners.person.corrected": ("Kişi bilgilerinde düzeltme", "Person's details corrected"),
    "partners.protocol.drafted": ("Protokol taslağı hazırlandı", "Protocol drafted"),
    "partners.protocol.status_changed": ("Protokolün durumu değişti", "Protocol status changed"),
    "partners.protocol.party_added": ("Protokole taraf eklendi", "Party added to a protocol"),
    "partners.protocol.party_removed": ("Protokolden taraf çıkarıldı", "Party removed from a protocol"),
    "partners.protocol.document_attached": ("Protokole belge eklendi", "Document attached to a protocol"),
    "partners.protocol.revised": ("Protokol taslağı güncellendi", "Protocol draft revised"),
    "partners.protocol.amended": ("Protokolde değişiklik yapıldı", "Protocol amended"),
    "partners.protocol.corrected": ("Protokolde düzeltme", "Protocol corrected"),
    "partners.purchase.recorded": ("Satın alma kaydedildi", "Purchase recorded"),
    "partners.purchase.confirmed": ("Satın alma onaylandı", "Purchase confirmed"),
    "partners.purchase.disputed": ("Satın almaya itiraz edildi", "Purchase disputed"),
    "partners.purchase.voided": ("Satın alma iptal edildi", "Purchase voided"),
    "partners.purchase.corrected": ("Satın almada düzeltme", "Purchase corrected"),
    "notifications.reminder.commitment_due_soon": ("Faaliyetin son tarihi yaklaşıyor", "Commitment due soon"),
    "notifications.reminder.commitment_overdue": ("Faaliyet gecikti", "Commitment overdue"),
    "notifications.reminder.protocol_term_ending": ("Protokolün süresi doluyor", "Protocol term ending"),
    "notifications.digest.weekly": ("Haftalık özet", "Weekly digest"),
}
MONTHS = {
    "tr": ("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım",
           "Aralık"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


def _pick(table: dict[str, tuple[str, str]], key: Any, language: str) -> str:
    if key is None:
        return "—"
    pair = table.get(str(key))
    if pair is None:
        return str(key).replace("_", " ")
    return pair[0] if language == "tr" else pair[1]


def protocol_status(value: Any, language: str) -> str:
    return _pick(PROTOCOL_STATUSES, value, language)


def commitment_status(value: Any, language: str) -> str:
    return _pick(COMMITMENT_STATUSES, value, language)


def role(value: Any, language: str) -> str:
    return _pick(ROLES, value, language)


def entity_kind(value: Any, language: str) -> str:
    return _pick(ENTITY_KINDS, value, language)


def event_label(event_type: str, language: str) -> str:
    """``izlek.partners.protocol.status_changed.v1`` → "Protokolün durumu değişti"."""
    key = ".".join(event_type.split(".")[1:4])
    return _pick(EVENT_TYPES, key, language) if key in EVENT_TYPES else event_type


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(TURKEY).date()
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) > 10:
        return datetime.fromisoformat(text).astimezone(TURKEY).date()
    return date.fromisoformat(text)


def long_date(value: Any, language: str, precision: str | None = None) -> str:
    """15 Haziran 2026 / 15 June 2026; "2019 yılı" / "2019" for a year-precision date."""
    day = as_date(value)
    if day is None:
        return "—"
    month = MONTHS[language][day.month - 1]
    if precision == "year":
        return f"{day.year} yılı" if language == "tr" else f"the year {day.year}"
    if precision == "month":
        return f"{month} {day.year}"
    return f"{day.day} {month} {day.year}"


def long_datetime(value: Any, language: str) -> str:
    """15 Haziran 2026 11:00 (TSİ) / 15 June 2026, 11:00 (Turkish time)."""
    if value is None:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = moment.astimezone(TURKEY)
    day = long_date(local.date(), language)
    return f"{day} {local:%H:%M} (TSİ)" if language == "tr" else f"{day}, {local:%H:%M} (Turkish time)"


def partial_date(value: Any, language: str) -> str:
    """A date known to the year, month or day, as recorded ("2019", "2019-09", "2019-09-04")."""
    if not value:
        return "—"
    text = str(value)
    if len(text) == 4:
        return text
    if len(text) == 7:
        return f"{MONTHS[language][int(text[5:7]) - 1]} {text[:4]}"
    return long_date(text, language)


def days(count: int, language: str) -> str:
    if language == "tr":
        return f"{count} gün"
    return f"{count} day" if count == 1 else f"{count} days"
