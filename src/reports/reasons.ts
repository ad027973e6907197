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
  // An inspector's reasons (POST /v1/review/{id}/decision): what a person saw that the automated checks could not.
  NO_VIOLATION_VISIBLE: {
    en: 'The inspector could not see the violation in the photo or video.',
    ru: 'Инспектор не увидел нарушения на фото или видео.',
    uz: "Inspektor rasm yoki videoda qoidabuzarlikni ko'rmadi.",
  },
  PLATE_NOT_READABLE: {
    en: "The vehicle's number plate cannot be read in the evidence.",
    ru: 'Номер автомобиля на фото или видео невозможно прочитать.',
    uz: "Dalilda avtomobil raqamini o'qib bo'lmaydi.",
  },
  PLATE_MISMATCH: {
    en: 'The number plate in the evidence differs from the one in the report.',
    ru: 'Номер на фото или видео не совпадает с номером в сообщении.',
    uz: 'Dalildagi avtomobil raqami xabardagi raqamga mos kelmaydi.',
  },
  WRONG_VIOLATION_TYPE: {
    en: 'The evidence shows a different violation from the one chosen; file it again with the right type.',
    ru: 'На фото или видео другое нарушение, не то, что выбрано; отправьте сообщение заново с верным типом.',
    uz: "Dalilda tanlangandan boshqa qoidabuzarlik ko'rinadi; to'g'ri turini tanlab qayta yuboring.",
  },
  EVIDENCE_INSUFFICIENT: {
    en: 'The evidence is too short, dark or unclear to prove the violation.',
    ru: 'Фото или видео слишком короткое, тёмное или нечёткое, чтобы доказать нарушение.',
    uz: "Dalil qoidabuzarlikni isbotlash uchun juda qisqa, qorong'i yoki noaniq.",
  },
  TIME_OR_PLACE_MISMATCH: {
    en: 'The time or place in the evidence does not match the report.',
    ru: 'Время или место на фото или видео не совпадает с указанным в сообщении.',
    uz: 'Dalildagi vaqt yoki joy xabardagiga mos kelmaydi.',
  },
  EVIDENCE_ALTERED: {
    en: 'The evidence appears to have been edited.',
    ru: 'Фото или видео, по-видимому, было изменено.',
    uz: "Dalil o'zgartirilganga o'xshaydi.",
  },
  SAME_AS_OTHER_REPORT: {
    en: 'The same violation was already reported by someone else and is being handled.',
    ru: 'Об этом нарушении уже сообщил другой человек, сообщение рассматривается.',
    uz: "Bu qoidabuzarlik haqida boshqa kishi xabar bergan va u ko'rib chiqilmoqda.",
  },
  // The follow-up's (src/reports/follow-up.expiry.ts): the inspector's question went unanswered.
  INFO_NOT_PROVIDED: {
    en: 'The inspector asked for more information and no answer came in time.',
    ru: 'Инспектор запросил дополнительные сведения, но ответа в срок не поступило.',
    uz: "Inspektor qo'shimcha ma'lumot so'radi, lekin javob o'z vaqtida kelmadi.",
  },
} as const satisfies Record<string, Record<Language, string>>;

/** The reasons an inspector may give when rejecting a report (the rest are the automated stages'). */
export const REVIEW_REJECTION_REASONS = [
  'NO_VIOLATION_VISIBLE',
  'PLATE_NOT_READABLE',
  'PLATE_MISMATCH',
  'WRONG_VIOLATION_TYPE',
  'EVIDENCE_INSUFFICIENT',
  'TIME_OR_PLACE_MISMATCH',
  'EVIDENCE_ALTERED',
  'SAME_AS_OTHER_REPORT',
  'OUTSIDE_COUNTRY',
  'FILED_TOO_LATE',
] as const satisfies readonly (keyof typeof REJECTION_REASONS)[];

export type Language = 'uz' | 'ru' | 'en';
export type RejectionReason = keyof typeof REJECTION_REASONS;
