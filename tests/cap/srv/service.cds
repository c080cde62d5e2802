using erp from '../db/schema';

@requires: 'authenticated-user'
service CatalogService @(path: '/odata/v4/catalog') {
  @readonly entity Products as projection on erp.Products;
}
