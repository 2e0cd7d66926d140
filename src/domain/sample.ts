/**
 * A realistic sample pratica, for webhook tests ("test" button) and `messo trigger`, so a
 * receiver sees exactly the shape it will get in production: the core's version-1 form paths,
 * a list, and links built on an application url.
 */
import { createApplication, type ApplicationDoc, type ServiceRef } from './application.js';
import { uuid } from './ids.js';

/** Where the sample claims to live when the caller has no url of its own to give it. */
export const SAMPLE_BASE_URL = 'https://servizi.comune.example.it/lang';

export function sampleApplication(tenantId: string, nowMs: number, status = 2000, service?: ServiceRef, baseUrl = SAMPLE_BASE_URL): ApplicationDoc {
  const id = uuid();
  return createApplication({
    id,
    tenantId,
    status,
    nowMs,
    applicationUrl: `${baseUrl}/api/applications/${id}`,
    service: service ?? { id: '00000000-0000-4000-8000-000000000000', slug: 'iscrizione-asilo-nido', name: "Iscrizione all'asilo nido", group_name: null },
    fields: {
      user: uuid(),
      user_name: 'Mario Rossi',
      subject: 'Iscrizione asilo nido - Mario Rossi',
      authentication: { authentication_method: 'spid', spid_level: 'https://www.spid.gov.it/SpidL2' },
      data: {
        'applicant.data.completename.data.name': 'Mario',
        'applicant.data.completename.data.surname': 'Rossi',
        'applicant.data.fiscal_code.data.fiscal_code': 'RSSMRA80A01L378Y',
        'applicant.data.Born.data.natoAIl': '1980-01-01T00:00:00+01:00',
        'applicant.data.email_address': 'mario.rossi@example.org',
        'child.data.name': 'Giulia',
        'preferenze.0.asilo': 'Asilo nido Il Girasole',
        'preferenze.1.asilo': 'Asilo nido Arcobaleno',
      },
    },
  });
}
