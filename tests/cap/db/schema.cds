namespace erp;

// The ERP record pimfeed reads, as an OData entity.
entity Products {
  key ID      : String(40);
  price       : Decimal(12, 2);
  stock       : Integer;
  currency    : String(3);
  sale_price  : Decimal(12, 2);
  gtin        : String(14);
  mpn         : String(40);
  weight      : Decimal(10, 3);
  length      : Decimal(10, 2);
  width       : Decimal(10, 2);
  height      : Decimal(10, 2);
  unit        : String(10);
  pack_size   : Integer;
  active      : Boolean default true;
  price_tiers : String(200);
}
