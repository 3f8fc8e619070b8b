/**
 * Every `nbt` subcommand, in the order `nbt --help` lists them. To add one: write
 * src/cli/commands/<name>.ts exporting a Command, and add it here.
 */
import type { Command } from '../types.js';
import { createCommand } from './create.js';
import { dhtCommand } from './dht.js';
import { infoCommand } from './info.js';
import { scrapeCommand } from './scrape.js';
import { trackerCommand } from './tracker.js';

export const commands: Command[] = [createCommand, infoCommand, scrapeCommand, trackerCommand, dhtCommand];
