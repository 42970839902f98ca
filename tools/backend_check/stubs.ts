// In-memory stand-ins for what the backend keeps in Redis / MongoDB / Postgres. They
// implement the backend's own domain interfaces (read from the checkout at run time) and
// return the backend's own value objects, so the real gateway and handlers run unchanged.
import * as path from 'path';

const ROOT = process.env.HARNESS_BACKEND_ROOT as string;

/** A module of the backend checkout (e.g. 'src/websocket/websocket.gateway'). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const backend = (rel: string): any => require(path.join(ROOT, rel));

const commercialVO = () => ({
  CommercialId: backend('src/context/commercial/domain/value-objects/commercial-id').CommercialId,
  CommercialConnectionStatus: backend(
    'src/context/commercial/domain/value-objects/commercial-connection-status',
  ).CommercialConnectionStatus,
  CommercialLastActivity: backend(
    'src/context/commercial/domain/value-objects/commercial-last-activity',
  ).CommercialLastActivity,
});

/** CommercialConnectionDomainService (Redis in the backend): statuses, tenant sets. */
export class InMemoryCommercialConnections {
  status = new Map<string, string>();
  activity = new Map<string, Date>();
  tenantOf = new Map<string, string>();
  typing = new Map<string, Set<string>>(); // chatId -> commercial ids

  async setConnectionStatus(id: any, status: any, companyId?: string): Promise<void> {
    this.status.set(id.value, status.value);
    if (companyId) this.tenantOf.set(id.value, companyId);
  }
  async getConnectionStatus(id: any): Promise<any> {
    const { CommercialConnectionStatus } = commercialVO();
    return new CommercialConnectionStatus(this.status.get(id.value) ?? 'offline');
  }
  async updateLastActivity(id: any, last: any): Promise<void> {
    this.activity.set(id.value, last.value);
  }
  async getLastActivity(id: any): Promise<any> {
    const { CommercialLastActivity } = commercialVO();
    return new CommercialLastActivity(this.activity.get(id.value) ?? new Date(0));
  }
  async removeConnection(id: any): Promise<void> {
    this.status.delete(id.value);
    this.activity.delete(id.value);
  }
  async isCommercialOnline(id: any): Promise<boolean> {
    return (this.status.get(id.value) ?? 'offline') !== 'offline';
  }
  async isCommercialActive(id: any, timeoutMinutes = 5): Promise<boolean> {
    const at = this.activity.get(id.value);
    return !!at && Date.now() - at.getTime() < timeoutMinutes * 60_000;
  }
  private ids(pred: (status: string, id: string) => boolean): any[] {
    const { CommercialId } = commercialVO();
    return [...this.status.entries()]
      .filter(([id, s]) => pred(s, id))
      .map(([id]) => new CommercialId(id));
  }
  async getOnlineCommercials(): Promise<any[]> {
    return this.ids((s) => s !== 'offline');
  }
  async getAvailableCommercials(companyId?: string): Promise<any[]> {
    return this.ids((s, id) => s === 'online' && (!companyId || this.tenantOf.get(id) === companyId));
  }
  async getOnlineCountByTenant(companyId: string): Promise<number> {
    // the Redis SCARD of the tenant's "available" set: commercials 'online' in it
    return (await this.getAvailableCommercials(companyId)).length;
  }
  async getCompanyIdByCommercial(id: any): Promise<string | undefined> {
    return this.tenantOf.get(id.value);
  }
  async getBusyCommercials(): Promise<any[]> {
    return this.ids((s) => s === 'busy');
  }
  async getActiveCommercials(timeoutMinutes = 5): Promise<any[]> {
    const { CommercialId } = commercialVO();
    const limit = Date.now() - timeoutMinutes * 60_000;
    return [...this.activity.entries()]
      .filter(([, at]) => at.getTime() > limit)
      .map(([id]) => new CommercialId(id));
  }
  async setTyping(id: any, chatId: string): Promise<void> {
    if (!this.typing.has(chatId)) this.typing.set(chatId, new Set());
    this.typing.get(chatId)!.add(id.value);
  }
  async isTyping(id: any, chatId: string): Promise<boolean> {
    return this.typing.get(chatId)?.has(id.value) ?? false;
  }
  async clearTyping(id: any, chatId: string): Promise<void> {
    this.typing.get(chatId)?.delete(id.value);
  }
  async getTypingInChat(chatId: string): Promise<any[]> {
    const { CommercialId } = commercialVO();
    return [...(this.typing.get(chatId) ?? [])].map((id) => new CommercialId(id));
  }
}

const visitorVO = () => ({
  VisitorId: backend('src/context/visitors-v2/domain/value-objects/visitor-id').VisitorId,
  VisitorConnectionVO: backend('src/context/visitors-v2/domain/value-objects/visitor-connection')
    .VisitorConnectionVO,
  VisitorLastActivity: backend('src/context/visitors-v2/domain/value-objects/visitor-last-activity')
    .VisitorLastActivity,
});

/** VisitorConnectionDomainService (Redis in the backend). */
export class InMemoryVisitorConnections {
  status = new Map<string, string>();
  activity = new Map<string, Date>();
  userActivity = new Map<string, Date>();
  typing = new Map<string, Set<string>>();
  keys = new Map<string, number>(); // key -> expiry (epoch ms)

  async setConnectionStatus(id: any, connection: any): Promise<void> {
    this.status.set(id.value, connection.value);
  }
  async getConnectionStatus(id: any): Promise<any> {
    const { VisitorConnectionVO } = visitorVO();
    return new VisitorConnectionVO(this.status.get(id.value) ?? 'offline');
  }
  async removeConnection(id: any): Promise<void> {
    this.status.delete(id.value);
  }
  async isVisitorOnline(id: any): Promise<boolean> {
    return ['online', 'chatting', 'away'].includes(this.status.get(id.value) ?? 'offline');
  }
  private ids(pred: (s: string) => boolean): any[] {
    const { VisitorId } = visitorVO();
    return [...this.status.entries()].filter(([, s]) => pred(s)).map(([id]) => new VisitorId(id));
  }
  async getChattingVisitors(): Promise<any[]> {
    return this.ids((s) => s === 'chatting');
  }
  async getOnlineVisitors(): Promise<any[]> {
    return this.ids((s) => ['online', 'chatting', 'away'].includes(s));
  }
  async setTyping(id: any, chatId: string): Promise<void> {
    if (!this.typing.has(chatId)) this.typing.set(chatId, new Set());
    this.typing.get(chatId)!.add(id.value);
  }
  async isTyping(id: any, chatId: string): Promise<boolean> {
    return this.typing.get(chatId)?.has(id.value) ?? false;
  }
  async clearTyping(id: any, chatId: string): Promise<void> {
    this.typing.get(chatId)?.delete(id.value);
  }
  async getTypingInChat(chatId: string): Promise<any[]> {
    const { VisitorId } = visitorVO();
    return [...(this.typing.get(chatId) ?? [])].map((id) => new VisitorId(id));
  }
  async updateLastActivity(id: any, last: any): Promise<void> {
    this.activity.set(id.value, last.value);
  }
  async getLastActivity(id: any): Promise<any> {
    const { VisitorLastActivity } = visitorVO();
    return new VisitorLastActivity(this.activity.get(id.value) ?? new Date(0));
  }
  async isVisitorActive(id: any, timeoutMinutes = 5): Promise<boolean> {
    const at = this.activity.get(id.value);
    return !!at && Date.now() - at.getTime() < timeoutMinutes * 60_000;
  }
  async updateLastUserActivity(id: any, last: any): Promise<void> {
    this.userActivity.set(id.value, last.value);
  }
  async getLastUserActivity(id: any): Promise<any> {
    const { VisitorLastActivity } = visitorVO();
    return new VisitorLastActivity(this.userActivity.get(id.value) ?? new Date(0));
  }
  async isUserActive(id: any, timeoutMinutes = 5): Promise<boolean> {
    const at = this.userActivity.get(id.value);
    return !!at && Date.now() - at.getTime() < timeoutMinutes * 60_000;
  }
  async hasKey(key: string): Promise<boolean> {
    const until = this.keys.get(key);
    return until !== undefined && until > Date.now();
  }
  async setKeyWithExpiry(key: string, _value: string, ttlSeconds: number): Promise<void> {
    this.keys.set(key, Date.now() + ttlSeconds * 1000);
  }
}

/** CommercialRepository (MongoDB): only findById, for the commercial-assigned handler;
 * commercials are seeded through POST /__commercials. */
export class InMemoryCommercialRepository {
  rows = new Map<string, { id: string; name: string; avatarUrl: string | null }>();

  async findById(id: any): Promise<any> {
    const { Ok } = backend('src/context/shared/domain/result');
    const row = this.rows.get(id.value);
    if (!row) return new Ok(null);
    const { Commercial } = backend('src/context/commercial/domain/commercial.aggregate');
    const now = new Date();
    return new Ok(
      Commercial.fromPrimitives({
        id: row.id,
        name: row.name,
        connectionStatus: 'online',
        lastActivity: now,
        createdAt: now,
        updatedAt: now,
        avatarUrl: row.avatarUrl,
      }),
    );
  }
}

/** UserAccountRepository (Postgres): nobody has an account avatar here. */
export class EmptyUserAccountRepository {
  async findById(): Promise<null> {
    return null;
  }
  async findByKeycloakId(): Promise<null> {
    return null;
  }
}
