// The public face of telephony-gateway/: start it, configure it, and plug a line driver into it.
export { startGateway, type GatewayOptions, type RunningGateway } from './gateway.ts';
export { runGatewayProcess } from './main.ts';
export { GatewayConfig, LineConfig, Person, type GatewayConfigInput } from './config.ts';
export type { LineDriver, PlaceOptions, PlaceResult, PlaceOutcome } from './drivers/driver.ts';
export { openDriver, type DriverContext } from './drivers/open.ts';
export { CardDriver } from './drivers/card/index.ts';
export { registerGatewayCommands, gatewayConfigKinds } from './cli.ts';
