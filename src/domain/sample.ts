/**
 * A realistic sample pratica, for webhook tests ("test" button) and `messo trigger`, so a
 * receiver sees exactly the shape it will get in production.
 */
import { createApplication, type ApplicationDoc } from './application.js';
import { uuid } from './ids.js';

export function sampleApplication(tenantId: string, nowMs: number, status = 2000, service?: { id: string; slug: string; name: string; group_name: string | null }): ApplicationDoc {
  return createApplication({
    id: uuid(),
    tenantId,
    status,
    nowMs,
    service: service ?? { id: '00000000-0000-4000-8000-000000000000', slug: 'iscrizione-asilo-nido', name: "Iscrizione all'asilo nido", group_name: null },
    fields: {
      user: uuid(),
      user_name: 'Mario Rossi',
      subject: 'Iscrizione asilo nido - Mario Rossi',
      data: {
        'applicant.data.completename.data.name': 'Mario',
        'applicant.data.completename.data.surname': 'Rossi',
        'applicant.data.fiscal_code.data.fiscal_code': 'RSSMRA80A01L378Y',
        'applicant.data.email_address': 'mario.rossi@example.org',
        'child.data.name': 'Giulia',
        nursery: 'Asilo nido Il Girasole',
      },
    },
  });
}
