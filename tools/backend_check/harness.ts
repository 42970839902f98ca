// A minimal NestJS app around the Guiders backend's REAL WebSocket gateway
// (src/websocket/websocket.gateway.ts of the checkout in GUIDERS_BACKEND_SRC), its REAL
// TokenVerifyService (internal HS256 tokens need only GLOBAL_TOKEN_SECRET) and its REAL
// notify-*-on-*.event-handler.ts classes, with in-memory stand-ins (stubs.ts) for Redis,
// MongoDB and Postgres. Start it with `node run.js` (see README.md).
//
// stdout: the first line is the port (then nothing else); every log line goes to stderr.
// Control channel on the same port (HTTP, loopback only):
//   GET  /__harness/info                      -> what was loaded
//   GET  /__harness/clients                   -> each socket: rooms, authenticated user
//   POST /__harness/emit     {room, event, payload}     -> gateway.emitToRoom(...)
//   POST /__harness/publish  {event, args: [...]}       -> eventBus.publish(new Event(...args))
//        (ISO 8601 strings in args become Date objects, as the domain events carry them)
//   POST /__harness/commercials {id, name, avatarUrl?} -> seeds the commercial repository
//   POST /__harness/drop {mode?}               -> every socket's connection dropped
//        ('transport', default: clients reconnect) or socket.disconnect(true) ('disconnect')
import 'reflect-metadata';
import { Body, ConsoleLogger, Controller, Get, HttpCode, Inject, LogLevel, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule, EventBus } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import { HttpModule } from '@nestjs/axios';
import { ConfigModule } from '@nestjs/config';
import {
  EmptyUserAccountRepository,
  InMemoryCommercialConnections,
  InMemoryCommercialRepository,
  InMemoryVisitorConnections,
  backend,
} from './stubs';

const { WebSocketGatewayBasic } = backend('src/websocket/websocket.gateway');
const { TokenVerifyService } = backend('src/context/shared/infrastructure/token-verify.service');
const { VISITOR_CONNECTION_DOMAIN_SERVICE } = backend(
  'src/context/visitors-v2/domain/visitor-connection.domain-service',
);
const { COMMERCIAL_CONNECTION_DOMAIN_SERVICE } = backend(
  'src/context/commercial/domain/commercial-connection.domain-service',
);
const { COMMERCIAL_REPOSITORY } = backend('src/context/commercial/domain/commercial.repository');
const { USER_ACCOUNT_REPOSITORY } = backend(
  'src/context/auth/auth-user/domain/user-account.repository',
);

const CONV = 'src/context/conversations-v2';
// The backend's event handlers that need only the gateway (or a stand-in above).
// [module, exported class]; one that fails to load is skipped and listed in /info.
const HANDLERS: [string, string][] = [
  [`${CONV}/application/events/notify-message-sent-on-message-sent.event-handler`, 'NotifyMessageSentOnMessageSentEventHandler'],
  [`${CONV}/application/events/notify-chat-created-on-chat-created.event-handler`, 'NotifyChatCreatedOnChatCreatedEventHandler'],
  [`${CONV}/application/events/notify-commercial-assigned-on-commercial-assigned.event-handler`, 'NotifyCommercialAssignedOnCommercialAssignedEventHandler'],
  [`${CONV}/application/events/notify-typing-started-on-typing-started.event-handler`, 'NotifyTypingStartedOnTypingStartedEventHandler'],
  [`${CONV}/application/events/notify-typing-stopped-on-typing-stopped.event-handler`, 'NotifyTypingStoppedOnTypingStoppedEventHandler'],
  [`${CONV}/application/events/notify-unread-count-updated-on-unread-count-updated.event-handler`, 'NotifyUnreadCountUpdatedOnUnreadCountUpdatedEventHandler'],
  [`${CONV}/application/events/notify-view-opened-on-chat-view-opened.event-handler`, 'NotifyViewOpenedOnChatViewOpenedEventHandler'],
  [`${CONV}/application/events/notify-view-closed-on-chat-view-closed.event-handler`, 'NotifyViewClosedOnChatViewClosedEventHandler'],
  [`${CONV}/application/events/notify-agent-requested-on-agent-requested.event-handler`, 'NotifyAgentRequestedOnAgentRequestedEventHandler'],
  // no chat repository here: it emits to the user's own room only (its @Optional path)
  ['src/context/shared/infrastructure/events/notify-presence-changed-on-presence-changed.event-handler', 'NotifyPresenceChangedOnPresenceChangedEventHandler'],
  ['src/context/commercial/infrastructure/events/notify-tenant-on-commercial-presence-changed.event-handler', 'NotifyTenantOnCommercialPresenceChangedEventHandler'],
  ['src/context/visitors-v2/application/events/notify-high-intent-on-visitor-became-high-intent.event-handler', 'NotifyHighIntentOnVisitorBecameHighIntentEventHandler'],
];

// Domain events that POST /__harness/publish can build: name -> module.
const EVENTS: Record<string, string> = {
  MessageSentEvent: `${CONV}/domain/events/message-sent.event`,
  ChatCreatedEvent: `${CONV}/domain/events/chat-created.event`,
  CommercialAssignedEvent: `${CONV}/domain/events/commercial-assigned.event`,
  TypingStartedEvent: `${CONV}/domain/events/typing-started.event`,
  TypingStoppedEvent: `${CONV}/domain/events/typing-stopped.event`,
  UnreadCountUpdatedEvent: `${CONV}/domain/events/unread-count-updated.event`,
  ChatViewOpenedEvent: `${CONV}/domain/events/chat-view-opened.event`,
  ChatViewClosedEvent: `${CONV}/domain/events/chat-view-closed.event`,
  AgentRequestedEvent: `${CONV}/domain/events/agent-requested.event`,
  PresenceChangedEvent: 'src/context/shared/domain/events/presence-changed.event',
  VisitorBecameHighIntentEvent: 'src/context/visitors-v2/domain/events/visitor-became-high-intent.event',
};

const loaded: string[] = [];
const skipped: Record<string, string> = {};
const handlerClasses: any[] = [];
for (const [mod, name] of HANDLERS) {
  try {
    const cls = backend(mod)[name];
    if (typeof cls !== 'function') throw new Error(`no export ${name}`);
    handlerClasses.push(cls);
    loaded.push(name);
  } catch (err) {
    skipped[name] = String((err as Error).message).split('\n')[0];
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
function revive(value: unknown): unknown {
  if (typeof value === 'string' && ISO.test(value)) return new Date(value);
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

@Controller('__harness')
class HarnessController {
  constructor(
    @Inject(WebSocketGatewayBasic) private readonly gateway: any,
    private readonly eventBus: EventBus,
    @Inject(COMMERCIAL_REPOSITORY) private readonly commercials: InMemoryCommercialRepository,
  ) {}

  @Get('info')
  info() {
    return { backendRoot: process.env.HARNESS_BACKEND_ROOT, handlers: loaded, skipped, events: Object.keys(EVENTS) };
  }

  @Get('clients')
  clients() {
    const users: Map<string, unknown> = this.gateway.clientUsers; // private in the gateway
    const ns = this.gateway.server.sockets ?? this.gateway.server;
    return [...ns.sockets.values()].map((s: any) => ({
      id: s.id,
      rooms: [...s.rooms].filter((r: string) => r !== s.id).sort(),
      user: users.get(s.id) ?? null,
    }));
  }

  @Post('emit')
  @HttpCode(200)
  emit(@Body() body: { room: string; event: string; payload: unknown }) {
    this.gateway.emitToRoom(body.room, body.event, body.payload);
    return { ok: true };
  }

  @Post('publish')
  @HttpCode(200)
  async publish(@Body() body: { event: string; args?: unknown[] }) {
    const mod = EVENTS[body.event];
    if (!mod) return { ok: false, error: `unknown event ${body.event}; known: ${Object.keys(EVENTS).join(', ')}` };
    const cls = backend(mod)[body.event];
    const args = (body.args ?? []).map(revive);
    this.eventBus.publish(new cls(...args));
    await new Promise((r) => setTimeout(r, 20)); // async handlers (repository lookups)
    return { ok: true };
  }

  @Post('drop')
  @HttpCode(200)
  drop(@Body() body: { mode?: 'transport' | 'disconnect' }) {
    const ns = this.gateway.server.sockets ?? this.gateway.server;
    for (const socket of [...ns.sockets.values()] as any[]) {
      if (body?.mode === 'disconnect') {
        socket.disconnect(true); // a socket.io DISCONNECT packet: clients do not reconnect
      } else {
        socket.conn.close(); // the connection drops (network, deploy): clients reconnect
      }
    }
    return { ok: true };
  }

  @Post('commercials')
  @HttpCode(200)
  seed(@Body() body: { id: string; name: string; avatarUrl?: string | null }) {
    this.commercials.rows.set(body.id, { id: body.id, name: body.name, avatarUrl: body.avatarUrl ?? null });
    return { ok: true };
  }
}

@Module({
  imports: [
    JwtModule.register({}),
    HttpModule,
    ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true }),
    CqrsModule.forRoot(),
  ],
  controllers: [HarnessController],
  providers: [
    WebSocketGatewayBasic,
    TokenVerifyService,
    { provide: 'WEBSOCKET_GATEWAY', useExisting: WebSocketGatewayBasic },
    { provide: VISITOR_CONNECTION_DOMAIN_SERVICE, useClass: InMemoryVisitorConnections },
    { provide: COMMERCIAL_CONNECTION_DOMAIN_SERVICE, useClass: InMemoryCommercialConnections },
    { provide: COMMERCIAL_REPOSITORY, useClass: InMemoryCommercialRepository },
    { provide: USER_ACCOUNT_REPOSITORY, useClass: EmptyUserAccountRepository },
    ...handlerClasses,
  ],
})
class HarnessModule {}

/** Nest's console logger, on stderr: stdout carries only the port. */
class StderrLogger extends ConsoleLogger {
  protected printMessages(messages: unknown[], context?: string, logLevel?: LogLevel, _stream?: 'stdout' | 'stderr', errorStack?: unknown): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}

export async function main(): Promise<void> {
  if (!process.env.GLOBAL_TOKEN_SECRET) {
    throw new Error('GLOBAL_TOKEN_SECRET is not set (the HS256 secret tokens are signed with)');
  }
  const levels = (process.env.HARNESS_LOG_LEVELS ?? 'log,warn,error').split(',') as LogLevel[];
  const app = await NestFactory.create(HarnessModule, {
    logger: new StderrLogger('Harness', { logLevels: levels, colors: false }),
  });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.HARNESS_PORT ?? 0), process.env.HARNESS_HOST ?? '127.0.0.1');
  const address = app.getHttpServer().address();
  process.stdout.write(`${address.port}\n`);
  process.stderr.write(`harness: handlers ${loaded.join(', ')}${Object.keys(skipped).length ? `; skipped ${JSON.stringify(skipped)}` : ''}\n`);
}
