import { bannerPlugin } from './probes/banner.ts';

export default bannerPlugin({
  kind: 'telnet',
  description:
    'Telnet: waits for the first bytes (negotiation stripped); set expect: to require a prompt such as "login:"',
  defaultPort: 23,
  greeting: /[\s\S]*/,
  acceptPartialGreeting: true,
});
