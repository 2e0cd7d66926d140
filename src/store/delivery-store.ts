/**
 * Deliveries and attempts: the outbox rows the dispatcher works through, and what the API
 * shows of them.
 */
import type { Db, SqlValue } from './db.js';
import { decodeCursor, toAttempt, toDelivery, toPage } from './rows.js';
import type { Attempt, Delivery, DeliveryFilter, Page, PageQuery } from './types.js';

export interface DeliveryStore {
  listDeliveries(tenantId: string, filter: DeliveryFilter, page: PageQuery): Promise<Page<Delivery>>;
  getDelivery(tenantId: string, id: string): Promise<Delivery | null>;
  listAttempts(deliveryId: string): Promise<Attempt[]>;
}

export class SqlDeliveryStore implements DeliveryStore {
  constructor(protected readonly db: Db) {}

  async listDeliveries(tenantId: string, filter: DeliveryFilter, page: PageQuery): Promise<Page<Delivery>> {
    // Newest first: what an operator looking at deliveries wants to see.
    const before = decodeCursor(page.cursor);
    const where = ['tenant_id = ?'];
    const params: SqlValue[] = [tenantId];
    if (before !== null) { where.push('seq < ?'); params.push(before); }
    if (filter.webhook_id) { where.push('webhook_id = ?'); params.push(filter.webhook_id); }
    if (filter.event_id) { where.push('event_id = ?'); params.push(filter.event_id); }
    if (filter.subject) { where.push('subject = ?'); params.push(filter.subject); }
    if (filter.status) { where.push('status = ?'); params.push(filter.status); }
    if (filter.since !== undefined) { where.push('created_at >= ?'); params.push(filter.since); }
    if (filter.until !== undefined) { where.push('created_at < ?'); params.push(filter.until); }
    params.push(page.limit + 1);
    const rows = await this.db.query(`SELECT * FROM deliveries WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`, params);
    return toPage(rows.map(toDelivery), page.limit, (d) => d.seq);
  }

  async getDelivery(tenantId: string, id: string): Promise<Delivery | null> {
    const rows = await this.db.query('SELECT * FROM deliveries WHERE tenant_id = ? AND id = ?', [tenantId, id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async listAttempts(deliveryId: string): Promise<Attempt[]> {
    const rows = await this.db.query('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY seq', [deliveryId]);
    return rows.map(toAttempt);
  }
}
