import type { ESLint, Rule } from 'eslint';
export declare const layersRule: Rule.RuleModule;
export declare const candorPlugin: ESLint.Plugin;
