/** Moddable's `mc/config`: the manifest's `config` section, as a frozen object. */
declare module "mc/config" {
  const config: { readonly [key: string]: unknown };
  export default config;
}
