/** Webhook payloads as the platforms send them, for tests of the messaging channels. */

/** A WhatsApp Cloud API delivery of one text message from `from` to the shop's number PN123. */
export const whatsappDelivery = (id: string, from: string, text: string) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: 'WABA1',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '6281100000', phone_number_id: 'PN123' },
            contacts: [{ profile: { name: 'Ana' }, wa_id: from }],
            messages: [{ from, id, timestamp: '1735689600', type: 'text', text: { body: text } }],
          },
        },
      ],
    },
  ],
});
