import type { LanguageTexts } from '../catalog.js';

const THANKS = "Yo'llarni xavfsizroq qilishga yordam berganingiz uchun rahmat.";

export const UZ: LanguageTexts = {
  language: 'uz',
  openReport: 'Xabarni ochish',
  footer: 'Bu xat Jarima xizmati tomonidan avtomatik yuborildi, unga javob berish shart emas.',
  events: {
    accepted: {
      subject: (v) => `${v.id} raqamli xabar qabul qilindi`,
      body: (v) => [
        `${v.plate} avtomobili haqidagi ${v.id} raqamli xabaringiz qabul qilindi va avtomatik tekshiruvdan o'tdi.`,
        "Endi uni inspektor ko'rib chiqadi. Qaror haqida sizga xabar beramiz.",
      ],
      sms: (v) =>
        `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) qabul qilindi va avtomatik tekshiruvdan o'tdi. Inspektor ko'rib chiqadi.`,
    },
    rejected: {
      subject: (v) => `${v.id} raqamli xabar rad etildi`,
      body: (v) => [
        `${v.plate} avtomobili haqidagi ${v.id} raqamli xabaringiz rad etildi.`,
        `Sabab: ${v.reason}`,
      ],
      sms: (v, detail) =>
        `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) rad etildi.${detail ? ` ${detail}` : ''}`,
    },
    duplicate: {
      subject: (v) => `${v.id} raqamli xabar: bu haqda avval xabar berilgan`,
      body: (v) => [
        `${v.id} raqamli xabaringizdagi qoidabuzarlik (${v.plate} avtomobili) haqida avvalroq xabar berilgan, shu sababli xabaringiz takroriy sifatida yopildi.`,
        "Avvalgi xabar ko'rib chiqilmoqda. Befarq bo'lmaganingiz uchun rahmat.",
      ],
      sms: (v) =>
        `Jarima: ${v.plate} qoidabuzarligi haqida avval xabar berilgan, shu sababli ${v.id} raqamli xabaringiz takroriy sifatida yopildi.`,
    },
    needs_info: {
      subject: (v) => `${v.id} raqamli xabar: qo'shimcha ma'lumot kerak`,
      body: (v) => [
        `Inspektor ${v.plate} avtomobili haqidagi ${v.id} raqamli xabaringiz bo'yicha qo'shimcha ma'lumot so'ramoqda.`,
        ...(v.note ? [`Inspektor izohi: ${v.note}`] : []),
        "Iltimos, ilovada xabarni oching va so'ralgan ma'lumotni qo'shing.",
      ],
      sms: (v, detail) =>
        `Jarima: inspektor ${v.id} raqamli xabaringiz (${v.plate}) bo'yicha qo'shimcha ma'lumot so'ramoqda${detail ? `: ${detail}` : '. Ilovada xabarni oching.'}`,
    },
    approved: {
      subject: (v) => `${v.id} raqamli xabar tasdiqlandi`,
      body: (v) => [
        `Inspektor ${v.id} raqamli xabaringizdagi qoidabuzarlikni (${v.plate} avtomobili) tasdiqladi.`,
        'Endi xabar jarimalar reestriga yuboriladi.',
      ],
      sms: (v) =>
        `Jarima: inspektor ${v.id} raqamli xabaringizdagi (${v.plate}) qoidabuzarlikni tasdiqladi. Xabar jarimalar reestriga yuboriladi.`,
    },
    forwarded: {
      subject: (v) => `${v.id} raqamli xabar jarimalar reestriga yuborildi`,
      body: (v) => [
        `${v.plate} avtomobili haqidagi ${v.id} raqamli xabaringiz jarimalar reestriga yuborildi.`,
        `Ish raqami: ${v.caseNumber}.`,
      ],
      sms: (v) =>
        `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) jarimalar reestriga yuborildi, ish raqami ${v.caseNumber}.`,
    },
    fined: {
      subject: (v) => `${v.id} raqamli xabar: jarima solindi`,
      body: (v) => [
        `${v.id} raqamli xabaringizdagi qoidabuzarlik (${v.plate} avtomobili) uchun ${v.amount} miqdorida jarima solindi.`,
        THANKS,
      ],
      sms: (v) =>
        `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) bo'yicha ${v.amount} miqdorida jarima solindi. Rahmat!`,
    },
    paid: {
      subject: (v) => `${v.id} raqamli xabar: jarima to'landi`,
      body: (v) => [
        `${v.id} raqamli xabaringizdagi qoidabuzarlik (${v.plate} avtomobili) uchun solingan jarima to'landi.`,
      ],
      sms: (v) => `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) bo'yicha jarima to'landi.`,
    },
    rewarded: {
      subject: (v) => `${v.id} raqamli xabar: mukofot o'tkazildi`,
      body: (v) => [
        `${v.id} raqamli xabaringiz (${v.plate} avtomobili) uchun ${v.amount} miqdorida mukofot hisobingizga o'tkazildi.`,
        THANKS,
      ],
      sms: (v) =>
        `Jarima: ${v.id} raqamli xabaringiz (${v.plate}) uchun ${v.amount} mukofot hisobingizga o'tkazildi. Rahmat!`,
    },
    overturned: {
      subject: (v) => `Xabar ${v.id}: jarima shikoyat bo'yicha bekor qilindi`,
      body: (v) => [
        `${v.id} xabaringiz (${v.plate} avtomobili) bo'yicha jarima shikoyat asosida bekor qilindi.`,
        "To'lanmagan mukofot bekor qilinadi; to'langani sizda qoladi.",
      ],
      sms: (v) => `Jarima: ${v.id} xabar (${v.plate}) bo'yicha jarima shikoyat asosida bekor qilindi.`,
    },
  },
};
