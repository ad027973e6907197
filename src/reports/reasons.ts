/**
 * Why a report was rejected, in the citizen's language. Codes are stable (clients and statistics key on them); the
 * texts may be reworded. Uzbek in Latin script.
 */
export const REJECTION_REASONS = {
  INCIDENT_IN_FUTURE: {
    en: 'The incident time is in the future. Check the date and time on your phone.',
    ru: 'Время нарушения указано в будущем. Проверьте дату и время на телефоне.',
    uz: "Qoidabuzarlik vaqti kelajakda ko'rsatilgan. Telefoningizdagi sana va vaqtni tekshiring.",
  },
  FILED_TOO_LATE: {
    en: 'The report was filed too long after the incident: the filing window has passed.',
    ru: 'Сообщение отправлено слишком поздно: срок подачи истёк.',
    uz: "Xabar juda kech yuborilgan: yuborish muddati o'tgan.",
  },
  OUTSIDE_COUNTRY: {
    en: 'The location is outside Uzbekistan.',
    ru: 'Место нарушения находится за пределами Узбекистана.',
    uz: "Qoidabuzarlik joyi O'zbekiston hududidan tashqarida.",
  },
  PLATE_FORMAT_UNKNOWN: {
    en: 'The licence plate does not match any Uzbek plate format.',
    ru: 'Госномер не соответствует ни одному формату номеров Узбекистана.',
    uz: "Davlat raqami O'zbekiston raqamlari formatiga mos kelmaydi.",
  },
  VIOLATION_TYPE_UNKNOWN: {
    en: 'The violation type does not exist.',
    ru: 'Такого вида нарушения не существует.',
    uz: 'Bunday qoidabuzarlik turi mavjud emas.',
  },
  VIOLATION_TYPE_INACTIVE: {
    en: 'This violation type cannot be reported by citizens.',
    ru: 'Об этом виде нарушения граждане сообщать не могут.',
    uz: 'Bu turdagi qoidabuzarlik haqida fuqarolar xabar bera olmaydi.',
  },
  EVIDENCE_MISSING: {
    en: 'At least one photo or video is required.',
    ru: 'Нужно приложить хотя бы одно фото или видео.',
    uz: 'Kamida bitta rasm yoki video ilova qilinishi kerak.',
  },
  EVIDENCE_KIND_NOT_ALLOWED: {
    en: 'This kind of evidence is not accepted for this violation.',
    ru: 'Такой вид доказательства не принимается для этого нарушения.',
    uz: 'Bu qoidabuzarlik uchun bunday dalil turi qabul qilinmaydi.',
  },
  EVIDENCE_UNREADABLE: {
    en: 'A photo or video could not be opened: it is damaged or not what its type claims.',
    ru: 'Не удалось открыть фото или видео: файл повреждён или не соответствует своему типу.',
    uz: "Rasm yoki videoni ochib bo'lmadi: fayl buzilgan yoki turi mos kelmaydi.",
  },
  PHOTO_TOO_SMALL: {
    en: 'Photos must be at least 640×480 pixels.',
    ru: 'Фото должно быть не меньше 640×480 пикселей.',
    uz: "Rasm kamida 640×480 piksel bo'lishi kerak.",
  },
  VIDEO_TOO_SMALL: {
    en: 'Videos must be at least 720×480 pixels.',
    ru: 'Видео должно быть не меньше 720×480 пикселей.',
    uz: "Video kamida 720×480 piksel bo'lishi kerak.",
  },
  VIDEO_TOO_LONG: {
    en: 'Videos must be at most 120 seconds long; trim it to the violation.',
    ru: 'Видео должно быть не длиннее 120 секунд; обрежьте его до момента нарушения.',
    uz: 'Video 120 soniyadan oshmasligi kerak; uni qoidabuzarlik lahzasigacha qisqartiring.',
  },
  PIPELINE_ERROR: {
    en: 'Our automatic checks could not process this report. Staff have been alerted and will look at it.',
    ru: 'Автоматическая проверка не смогла обработать сообщение. Сотрудники уведомлены и рассмотрят его.',
    uz: "Avtomatik tekshiruv xabarni qayta ishlay olmadi. Xodimlar xabardor qilindi va uni ko'rib chiqadi.",
  },
  DUPLICATE_EVIDENCE: {
    en: 'This photo or video was already sent with another report, which is being handled.',
    ru: 'Это фото или видео уже отправлено с другим сообщением, которое рассматривается.',
    uz: "Bu rasm yoki video boshqa xabar bilan yuborilgan va u ko'rib chiqilmoqda.",
  },
  DUPLICATE_REPORT: {
    en: 'The same vehicle and violation at the same place and time was already reported.',
    ru: 'Об этом же нарушении этого автомобиля в том же месте и в то же время уже сообщили.',
    uz: 'Shu avtomobilning shu joy va vaqtdagi qoidabuzarligi haqida allaqachon xabar berilgan.',
  },
} as const satisfies Record<string, Record<Language, string>>;

export type Language = 'uz' | 'ru' | 'en';
export type RejectionReason = keyof typeof REJECTION_REASONS;
