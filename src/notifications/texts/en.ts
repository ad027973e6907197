import type { LanguageTexts } from '../catalog.js';

const THANKS = 'Thank you for helping make the roads safer.';

export const EN: LanguageTexts = {
  language: 'en',
  openReport: 'Open the report',
  footer: 'This message was sent automatically by Jarima; please do not reply to it.',
  events: {
    accepted: {
      subject: (v) => `Report ${v.id} received`,
      body: (v) => [
        `Your report ${v.id} about vehicle ${v.plate} has been received and has passed the automated checks.`,
        'It is now waiting for an inspector. We will let you know of the decision.',
      ],
      sms: (v) =>
        `Jarima: report ${v.id} (${v.plate}) received and passed the automated checks. It now waits for an inspector.`,
    },
    rejected: {
      subject: (v) => `Report ${v.id} rejected`,
      body: (v) => [`Your report ${v.id} about vehicle ${v.plate} has been rejected.`, `Reason: ${v.reason}`],
      sms: (v, detail) => `Jarima: report ${v.id} (${v.plate}) was rejected.${detail ? ` ${detail}` : ''}`,
    },
    duplicate: {
      subject: (v) => `Report ${v.id}: already reported`,
      body: (v) => [
        `The violation in your report ${v.id} (vehicle ${v.plate}) had already been reported, so your report was closed as a duplicate.`,
        'The earlier report is being handled. Thank you for not looking away.',
      ],
      sms: (v) =>
        `Jarima: this violation by ${v.plate} had already been reported, so report ${v.id} was closed as a duplicate.`,
    },
    needs_info: {
      subject: (v) => `Report ${v.id}: more information needed`,
      body: (v) => [
        `An inspector needs more information about your report ${v.id} (vehicle ${v.plate}).`,
        ...(v.note ? [`The inspector's note: ${v.note}`] : []),
        'Please open the report in the app and add what is asked.',
      ],
      sms: (v, detail) =>
        `Jarima: an inspector needs more information on report ${v.id} (${v.plate})${detail ? `: ${detail}` : '. Please open it in the app.'}`,
    },
    approved: {
      subject: (v) => `Report ${v.id} approved`,
      body: (v) => [
        `An inspector has confirmed the violation in your report ${v.id} (vehicle ${v.plate}).`,
        'It will now be sent to the fines registry.',
      ],
      sms: (v) =>
        `Jarima: an inspector confirmed the violation in report ${v.id} (${v.plate}). It goes to the fines registry next.`,
    },
    forwarded: {
      subject: (v) => `Report ${v.id} sent to the fines registry`,
      body: (v) => [
        `Your report ${v.id} (vehicle ${v.plate}) has been sent to the fines registry.`,
        `Case number: ${v.caseNumber}.`,
      ],
      sms: (v) => `Jarima: report ${v.id} (${v.plate}) was sent to the fines registry, case ${v.caseNumber}.`,
    },
    fined: {
      subject: (v) => `Report ${v.id}: fine issued`,
      body: (v) => [
        `A fine of ${v.amount} has been issued for the violation in your report ${v.id} (vehicle ${v.plate}).`,
        THANKS,
      ],
      sms: (v) =>
        `Jarima: a fine of ${v.amount} was issued for the violation in report ${v.id} (${v.plate}). Thank you!`,
    },
    paid: {
      subject: (v) => `Report ${v.id}: fine paid`,
      body: (v) => [`The fine for the violation in your report ${v.id} (vehicle ${v.plate}) has been paid.`],
      sms: (v) => `Jarima: the fine for report ${v.id} (${v.plate}) has been paid.`,
    },
    rewarded: {
      subject: (v) => `Report ${v.id}: reward credited`,
      body: (v) => [
        `A reward of ${v.amount} for your report ${v.id} (vehicle ${v.plate}) has been credited to your account.`,
        THANKS,
      ],
      sms: (v) =>
        `Jarima: a reward of ${v.amount} for report ${v.id} (${v.plate}) has been credited to your account. Thank you!`,
    },
    overturned: {
      subject: (v) => `Report ${v.id}: the fine was cancelled on appeal`,
      body: (v) => [
        `The fine issued on your report ${v.id} (vehicle ${v.plate}) was cancelled on appeal.`,
        'A reward not yet paid for it is withdrawn; one already paid stays yours.',
      ],
      sms: (v) => `Jarima: the fine on report ${v.id} (${v.plate}) was cancelled on appeal.`,
    },
  },
};
