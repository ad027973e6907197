/** The outbound SMS port. Adapters: the local simulator (default); an HTTP gateway adapter comes with notifications. */
export interface SmsGateway {
  readonly name: string;
  send(to: string, text: string): Promise<{ messageId: string }>;
}
